import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { PlansTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

export type PlanRow = Selectable<PlansTable>;

/** Finds a plan of a product by id or by name. */
export async function findPlan(
  db: Db,
  productId: string,
  ref: string,
  options: { forUpdate?: boolean } = {},
): Promise<PlanRow | undefined> {
  let query = db.selectFrom('plans').selectAll().where('product_id', '=', productId);
  query = isUuid(ref) ? query.where('id', '=', ref) : query.where('name', '=', ref.toLowerCase());
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** One page of a product's plans ordered by id (`limit + 1` rows), optionally only (un)published ones. */
export async function findPlans(
  db: Db,
  options: { productId: string; published?: boolean; afterId?: string; limit: number },
): Promise<PlanRow[]> {
  let query = db
    .selectFrom('plans')
    .selectAll()
    .where('product_id', '=', options.productId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.published !== undefined) query = query.where('published', '=', options.published);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** A product's published plans in display order. */
export async function findPublishedPlans(db: Db, productId: string): Promise<PlanRow[]> {
  return db
    .selectFrom('plans')
    .selectAll()
    .where('product_id', '=', productId)
    .where('published', '=', true)
    .orderBy('display_order')
    .orderBy('name')
    .execute();
}

/** Inserts a plan; a taken name raises 23505. */
export async function insertPlan(db: Db, values: Insertable<PlansTable>): Promise<PlanRow> {
  return db.insertInto('plans').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates a plan and bumps its version. */
export async function updatePlan(db: Db, id: string, values: Updateable<PlansTable>): Promise<PlanRow> {
  return db
    .updateTable('plans')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Counts the tenants (in any status) on one of the plan's prices. */
export async function countTenantsOnPlan(db: Db, planId: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .innerJoin('plan_prices', 'plan_prices.id', 'tenants.plan_price_id')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('plan_prices.plan_id', '=', planId)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Deletes a plan; its prices and feature attachments go with it (by cascade). */
export async function deletePlan(db: Db, id: string): Promise<void> {
  await db.deleteFrom('plans').where('id', '=', id).execute();
}
