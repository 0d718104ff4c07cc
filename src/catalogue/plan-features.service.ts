import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { type CatalogueDeps, definedOnly, guardUnique, requireCatalogueAdmin, requireCatalogueWriter } from './catalogue.shared.ts';
import { toPlanFeatureView, withFeatureNames } from './catalogue.views.ts';
import type { FeatureRow } from './features.repo.ts';
import { requireFeature } from './features.service.ts';
import * as repo from './plan-features.repo.ts';
import type { PlanFeatureAttachBody, PlanFeatureUpdateBody } from './plan-features.schemas.ts';
import { requirePlan } from './plans.service.ts';

type PlanRef = { product: string; plan: string };
type AttachmentRef = PlanRef & { feature: string };

/** The product, plan and feature a path names, each 404 when the caller cannot see it. */
async function resolve(db: Db, principal: Principal, ref: AttachmentRef) {
  const product = await getVisibleProduct(db, principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const feature = await requireFeature(db, product.id, ref.feature);
  return { product, plan, feature };
}

async function requireAttachment(db: Db, planId: string, feature: FeatureRow, forUpdate = false): Promise<repo.PlanFeatureRow> {
  const row = await repo.findPlanFeature(db, planId, feature.id, { forUpdate });
  if (!row)
    throw new AppError('plan_feature.not_found', {
      message: `The plan does not include the feature "${feature.name}"`,
      parameter: 'feature',
    });
  return row;
}

// A boolean feature is included or not: it has no amount to limit.
function assertLimitFits(feature: FeatureRow, limit: number | null | undefined): void {
  if (feature.type === 'boolean' && limit !== undefined && limit !== null)
    throw new AppError('request.invalid', {
      message: `"${feature.name}" is a boolean feature: its limit must be null`,
      parameter: 'limit',
    });
}

/** A feature's attachment to a plan, with the feature's names. */
export async function getPlanFeature(db: Db, principal: Principal, ref: AttachmentRef): Promise<repo.PlanFeatureWithFeature> {
  const { plan, feature } = await resolve(db, principal, ref);
  return withFeatureNames(await requireAttachment(db, plan.id, feature), feature);
}

/** One page of the features a plan includes. */
export async function listPlanFeatures(db: Db, principal: Principal, ref: PlanRef, query: { cursor?: string; limit: number }) {
  const product = await getVisibleProduct(db, principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const afterId = decodeCursor(query.cursor, UUID_KEY);
  const rows = await repo.findPlanFeatures(db, { planId: plan.id, afterId, limit: query.limit });
  return toPage(rows, query.limit, (row) => row.id);
}

/** Includes a feature in a plan; the unit defaults to the feature's, the reset period to `never`. */
export async function attachFeature(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: PlanRef,
  body: PlanFeatureAttachBody,
): Promise<repo.PlanFeatureWithFeature> {
  requireCatalogueWriter(caller.principal);
  const { product, plan, feature } = await resolve(db, caller.principal, { ...ref, feature: body.feature });
  assertLimitFits(feature, body.limit);
  const now = deps.clock.now();
  const row = await guardUnique(
    repo.insertPlanFeature(db, {
      id: newId(),
      product_id: product.id,
      plan_id: plan.id,
      feature_id: feature.id,
      limit_value: body.limit ?? null,
      unit: body.unit !== undefined ? body.unit : feature.unit,
      reset: body.reset ?? 'never',
      enforcement: body.enforcement,
      thresholds: body.thresholds,
      overage_unit_price_minor: body.overageUnitPrice ?? null,
      created_at: now,
      updated_at: now,
    }),
    'plan_feature.exists',
    `The plan includes the feature "${feature.name}" already; change it with PATCH`,
    'feature',
  );
  const view = withFeatureNames(row, feature);
  await insertAuditRecord(db, caller.actor, {
    action: 'plan_feature.create',
    objectType: 'plan_feature',
    objectId: row.id,
    productId: product.id,
    after: toPlanFeatureView(view),
  });
  return view;
}

/** Changes the limit, unit or reset period of a feature in a plan. Honours `If-Match`. */
export async function updatePlanFeature(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: AttachmentRef,
  body: PlanFeatureUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.PlanFeatureWithFeature> {
  requireCatalogueWriter(caller.principal);
  const { product, plan, feature } = await resolve(db, caller.principal, ref);
  const current = await requireAttachment(db, plan.id, feature, true);
  assertIfMatch(ifMatch, current);
  assertLimitFits(feature, body.limit);
  const changes = definedOnly({
    limit_value: body.limit,
    unit: body.unit,
    reset: body.reset,
    enforcement: body.enforcement,
    thresholds: body.thresholds,
    overage_unit_price_minor: body.overageUnitPrice,
  });
  const row = await repo.updatePlanFeature(db, current.id, { ...changes, updated_at: deps.clock.now() });
  const view = withFeatureNames(row, feature);
  await insertAuditRecord(db, caller.actor, {
    action: 'plan_feature.update',
    objectType: 'plan_feature',
    objectId: row.id,
    productId: product.id,
    before: toPlanFeatureView(withFeatureNames(current, feature)),
    after: toPlanFeatureView(view),
  });
  return view;
}

/** Takes a feature out of a plan (operators only). Honours `If-Match`. */
export async function detachFeature(db: Db, caller: Caller, ref: AttachmentRef, ifMatch: string | undefined): Promise<string> {
  requireCatalogueAdmin(caller.principal);
  const { product, plan, feature } = await resolve(db, caller.principal, ref);
  const current = await requireAttachment(db, plan.id, feature, true);
  assertIfMatch(ifMatch, current);
  await repo.deletePlanFeature(db, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'plan_feature.delete',
    objectType: 'plan_feature',
    objectId: current.id,
    productId: product.id,
    before: toPlanFeatureView(withFeatureNames(current, feature)),
  });
  return current.id;
}
