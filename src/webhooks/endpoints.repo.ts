import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { WebhookEndpointsTable } from '../db/schema.ts';

export type EndpointRow = Selectable<WebhookEndpointsTable>;

/** Finds an endpoint by id, optionally locking it for the rest of the transaction. */
export async function findEndpoint(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<EndpointRow | undefined> {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** One page of endpoints by id (`limit + 1` rows), optionally one product's. */
export async function findEndpoints(
  db: Db,
  options: { productId: string | null; afterId?: string; limit: number },
): Promise<EndpointRow[]> {
  let query = db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.productId) query = query.where('product_id', '=', options.productId);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Inserts an endpoint. */
export async function insertEndpoint(db: Db, values: Insertable<WebhookEndpointsTable>): Promise<EndpointRow> {
  return db.insertInto('webhook_endpoints').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates an endpoint and bumps its version. */
export async function updateEndpoint(db: Db, id: string, values: Updateable<WebhookEndpointsTable>): Promise<EndpointRow> {
  return db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Deletes an endpoint and, by cascade, its deliveries. */
export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}
