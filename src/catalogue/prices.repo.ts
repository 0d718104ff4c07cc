import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { PlanPricesTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

export type PriceRow = Selectable<PlanPricesTable>;

/** A price with the two facts of its plan a sale needs. */
export type ProductPriceRow = PriceRow & { plan_name: string; plan_published: boolean };

/** Finds a price of a plan by id or by name. */
export async function findPrice(db: Db, planId: string, ref: string, options: { forUpdate?: boolean } = {}): Promise<PriceRow | undefined> {
  let query = db.selectFrom('plan_prices').selectAll().where('plan_id', '=', planId);
  query = isUuid(ref) ? query.where('id', '=', ref) : query.where('name', '=', ref.toLowerCase());
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/**
 * Finds a price anywhere in a product by id or by name (RoSaaS's `planPriceSystemName`),
 * with its plan's name and published flag; `undefined` when the product has no such price.
 */
export async function findPriceForProduct(db: Db, productId: string, ref: string): Promise<ProductPriceRow | undefined> {
  let query = db
    .selectFrom('plan_prices')
    .innerJoin('plans', 'plans.id', 'plan_prices.plan_id')
    .selectAll('plan_prices')
    .select(['plans.name as plan_name', 'plans.published as plan_published'])
    .where('plan_prices.product_id', '=', productId);
  query = isUuid(ref) ? query.where('plan_prices.id', '=', ref) : query.where('plan_prices.name', '=', ref.toLowerCase());
  return query.executeTakeFirst();
}

/** One page of a plan's prices ordered by id (`limit + 1` rows), optionally only (un)published ones. */
export async function findPrices(
  db: Db,
  options: { planId: string; published?: boolean; afterId?: string; limit: number },
): Promise<PriceRow[]> {
  let query = db
    .selectFrom('plan_prices')
    .selectAll()
    .where('plan_id', '=', options.planId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.published !== undefined) query = query.where('published', '=', options.published);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Every price of the plans given (all of them, or only the published ones), in id order. */
export async function findPricesOfPlans(db: Db, planIds: string[], options: { onlyPublished: boolean }): Promise<PriceRow[]> {
  if (planIds.length === 0) return [];
  let query = db.selectFrom('plan_prices').selectAll().where('plan_id', 'in', planIds).orderBy('id');
  if (options.onlyPublished) query = query.where('published', '=', true);
  return query.execute();
}

/** Inserts a price; a name taken in the product raises 23505. */
export async function insertPrice(db: Db, values: Insertable<PlanPricesTable>): Promise<PriceRow> {
  return db.insertInto('plan_prices').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates a price and bumps its version. */
export async function updatePrice(db: Db, id: string, values: Updateable<PlanPricesTable>): Promise<PriceRow> {
  return db
    .updateTable('plan_prices')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Counts the tenants (in any status) on a price. */
export async function countTenantsOnPrice(db: Db, priceId: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('plan_price_id', '=', priceId)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Deletes a price. */
export async function deletePrice(db: Db, id: string): Promise<void> {
  await db.deleteFrom('plan_prices').where('id', '=', id).execute();
}
