import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ClientsTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

/** A row of `clients`. */
export type ClientRow = Selectable<ClientsTable>;

/** Finds a product's client by its row id or its public client id; another product's client is not found. */
export async function findClient(
  db: Db,
  productId: string,
  ref: string,
  options: { forUpdate?: boolean } = {},
): Promise<ClientRow | undefined> {
  let query = db.selectFrom('clients').selectAll().where('product_id', '=', productId);
  query = isUuid(ref) ? query.where('id', '=', ref.toLowerCase()) : query.where('client_id', '=', ref);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Finds any client by its public client id (the token endpoint's lookup). */
export async function findClientByClientId(db: Db, clientId: string): Promise<ClientRow | undefined> {
  return db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** One page of a product's clients ordered by id, `limit + 1` rows to tell whether more follow. */
export async function findClients(db: Db, productId: string, options: { afterId?: string; limit: number }): Promise<ClientRow[]> {
  let query = db
    .selectFrom('clients')
    .selectAll()
    .where('product_id', '=', productId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Inserts a client; the unique public client id raises 23505 when taken. */
export async function insertClient(db: Db, values: Insertable<ClientsTable>): Promise<ClientRow> {
  return db.insertInto('clients').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Changes a client. */
export async function updateClient(db: Db, id: string, values: Updateable<ClientsTable>): Promise<ClientRow> {
  return db.updateTable('clients').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Records that a client was just used (obtained a token). */
export async function touchClient(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('clients').set({ last_used_at: at }).where('id', '=', id).execute();
}
