import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { PlanFeaturesTable } from '../db/schema.ts';

export type PlanFeatureRow = Selectable<PlanFeaturesTable>;

/** An attachment with the names of its feature, as lists show it. */
export type PlanFeatureWithFeature = PlanFeatureRow & { feature_name: string; feature_display_name: string; feature_type: string };

/** The attachment of a feature to a plan, if any. */
export async function findPlanFeature(
  db: Db,
  planId: string,
  featureId: string,
  options: { forUpdate?: boolean } = {},
): Promise<PlanFeatureRow | undefined> {
  let query = db.selectFrom('plan_features').selectAll().where('plan_id', '=', planId).where('feature_id', '=', featureId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

function withFeature(db: Db) {
  return db
    .selectFrom('plan_features')
    .innerJoin('features', 'features.id', 'plan_features.feature_id')
    .selectAll('plan_features')
    .select(['features.name as feature_name', 'features.display_name as feature_display_name', 'features.type as feature_type']);
}

/** One page of a plan's attachments ordered by id (`limit + 1` rows). */
export async function findPlanFeatures(
  db: Db,
  options: { planId: string; afterId?: string; limit: number },
): Promise<PlanFeatureWithFeature[]> {
  let query = withFeature(db)
    .where('plan_features.plan_id', '=', options.planId)
    .orderBy('plan_features.id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('plan_features.id', '>', options.afterId);
  return query.execute();
}

/** Every attachment of the plans given, in id order. */
export async function findPlanFeaturesOfPlans(db: Db, planIds: string[]): Promise<PlanFeatureWithFeature[]> {
  if (planIds.length === 0) return [];
  return withFeature(db).where('plan_features.plan_id', 'in', planIds).orderBy('plan_features.id').execute();
}

/** Attaches a feature to a plan; attaching it twice raises 23505. */
export async function insertPlanFeature(db: Db, values: Insertable<PlanFeaturesTable>): Promise<PlanFeatureRow> {
  return db.insertInto('plan_features').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Updates an attachment and bumps its version. */
export async function updatePlanFeature(db: Db, id: string, values: Updateable<PlanFeaturesTable>): Promise<PlanFeatureRow> {
  return db
    .updateTable('plan_features')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Detaches a feature from a plan. */
export async function deletePlanFeature(db: Db, id: string): Promise<void> {
  await db.deleteFrom('plan_features').where('id', '=', id).execute();
}
