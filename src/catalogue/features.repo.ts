import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { FeaturesTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

export type FeatureRow = Selectable<FeaturesTable>;

/** Finds a feature of a product by id or by name. */
export async function findFeature(
  db: Db,
  productId: string,
  ref: string,
  options: { forUpdate?: boolean } = {},
): Promise<FeatureRow | undefined> {
  let query = db.selectFrom('features').selectAll().where('product_id', '=', productId);
  query = isUuid(ref) ? query.where('id', '=', ref) : query.where('name', '=', ref.toLowerCase());
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** One page of a product's features ordered by id (`limit + 1` rows). */
export async function findFeatures(db: Db, options: { productId: string; afterId?: string; limit: number }): Promise<FeatureRow[]> {
  let query = db
    .selectFrom('features')
    .selectAll()
    .where('product_id', '=', options.productId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('id', '>', options.afterId);
  return query.execute();
}

/** Inserts a feature; a taken name raises 23505. */
export async function insertFeature(db: Db, values: Insertable<FeaturesTable>): Promise<FeatureRow> {
  return db.insertInto('features').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates a feature and bumps its version. */
export async function updateFeature(db: Db, id: string, values: Updateable<FeaturesTable>): Promise<FeatureRow> {
  return db
    .updateTable('features')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Counts the plans a feature is attached to. */
export async function countPlansWithFeature(db: Db, featureId: string): Promise<number> {
  const row = await db
    .selectFrom('plan_features')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('feature_id', '=', featureId)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Deletes a feature. */
export async function deleteFeature(db: Db, id: string): Promise<void> {
  await db.deleteFrom('features').where('id', '=', id).execute();
}
