import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ProductRow, ProductsTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

/** Finds a product by id or by system name. */
export async function findProduct(db: Db, ref: string, options: { forUpdate?: boolean } = {}): Promise<ProductRow | undefined> {
  const query = productByRef(db, ref);
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/** The query for one product by id or by (case-insensitive) name, to select more beside it. */
export function productByRef(db: Db, ref: string) {
  const query = db.selectFrom('products').selectAll('products');
  return isUuid(ref) ? query.where('products.id', '=', ref) : query.where('products.name', '=', ref.toLowerCase());
}

/** One page of products ordered by id, optionally only one of them (a scoped caller). */
export async function findProducts(db: Db, options: { onlyId: string | null; afterId?: string; limit: number }): Promise<ProductRow[]> {
  let query = db
    .selectFrom('products')
    .selectAll()
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.onlyId) query = query.where('id', '=', options.onlyId);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Inserts a product; the unique name raises 23505 when taken. */
export async function insertProduct(db: Db, values: Insertable<ProductsTable>): Promise<ProductRow> {
  return db.insertInto('products').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates a product and bumps its version. */
export async function updateProduct(db: Db, id: string, values: Updateable<ProductsTable>): Promise<ProductRow> {
  return db
    .updateTable('products')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Counts a product's tenants that are not deleted. */
export async function countLiveTenants(db: Db, productId: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('product_id', '=', productId)
    .where('status', '!=', 'deleted')
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Deletes a product, the records of its deleted tenants, and (by cascade) its catalogue and clients. */
export async function deleteProduct(db: Db, id: string): Promise<void> {
  await db.deleteFrom('tenants').where('product_id', '=', id).execute();
  await db.deleteFrom('products').where('id', '=', id).execute();
}

/** Facts the product's warnings are computed from. */
export async function findProductReadiness(db: Db, productId: string) {
  const [plans, clients] = await Promise.all([
    db
      .selectFrom('plan_prices')
      .innerJoin('plans', 'plans.id', 'plan_prices.plan_id')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('plan_prices.product_id', '=', productId)
      .where('plan_prices.published', '=', true)
      .where('plans.published', '=', true)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('clients')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('product_id', '=', productId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow(),
  ]);
  return { publishedPrices: plans.count, activeClients: clients.count };
}
