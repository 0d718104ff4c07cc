import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConnectionsTable } from '../db/schema.ts';

/** A connection with its tenant's name. */
function connectionQuery(db: Db) {
  return db
    .selectFrom('connections')
    .innerJoin('tenants', 'tenants.id', 'connections.tenant_id')
    .selectAll('connections')
    .select('tenants.name as tenant_name');
}

/** A connection row with its tenant's name. */
export type ConnectionRecord = Awaited<ReturnType<ReturnType<typeof connectionQuery>['executeTakeFirstOrThrow']>>;

/** A tenant's connection by id; another tenant's connection is not found. */
export async function findConnection(
  db: Db,
  tenantId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ConnectionRecord | undefined> {
  let query = connectionQuery(db).where('connections.tenant_id', '=', tenantId).where('connections.id', '=', id.toLowerCase());
  if (options.forUpdate) query = query.forUpdate('connections');
  return query.executeTakeFirst();
}

/** One page of a tenant's connections, oldest first (ids are time-ordered), `limit + 1` rows. */
export async function findConnections(db: Db, tenantId: string, options: { afterId?: string; limit: number }): Promise<ConnectionRecord[]> {
  let query = connectionQuery(db)
    .where('connections.tenant_id', '=', tenantId)
    .orderBy('connections.id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('connections.id', '>', options.afterId);
  return query.execute();
}

/** Inserts a connection. */
export async function insertConnection(db: Db, values: Insertable<ConnectionsTable>): Promise<void> {
  await db.insertInto('connections').values(values).execute();
}

/** Changes a connection and bumps its version. */
export async function updateConnection(db: Db, id: string, values: Updateable<ConnectionsTable>): Promise<void> {
  await db
    .updateTable('connections')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** Deletes a connection. */
export async function deleteConnection(db: Db, id: string): Promise<void> {
  await db.deleteFrom('connections').where('id', '=', id).execute();
}
