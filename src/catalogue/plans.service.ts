import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isForeignKeyViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import {
  assertNameNotUuid,
  type CatalogueDeps,
  definedOnly,
  guardUnique,
  requireCatalogueAdmin,
  requireCatalogueWriter,
  switchPublished,
} from './catalogue.shared.ts';
import { toPlanFeatureView, toPlanView, toPriceView } from './catalogue.views.ts';
import { findPlanFeaturesOfPlans } from './plan-features.repo.ts';
import * as repo from './plans.repo.ts';
import type { PlanCreateBody, PlanUpdateBody } from './plans.schemas.ts';
import { findPricesOfPlans } from './prices.repo.ts';

/** The plan `ref` (id or name) of a product; 404 `plan.not_found` when the product has none such. */
export async function requirePlan(db: Db, productId: string, ref: string, forUpdate = false): Promise<repo.PlanRow> {
  const row = await repo.findPlan(db, productId, ref, { forUpdate });
  if (!row) throw new AppError('plan.not_found', { message: `The product has no plan "${ref}"`, parameter: 'plan' });
  return row;
}

/** A plan of a product the caller may see. */
export async function getPlan(db: Db, principal: Principal, productRef: string, planRef: string): Promise<repo.PlanRow> {
  const product = await getVisibleProduct(db, principal, productRef);
  return requirePlan(db, product.id, planRef);
}

/** One page of a product's plans, optionally only the (un)published ones. */
export async function listPlans(
  db: Db,
  principal: Principal,
  productRef: string,
  query: { published?: boolean; cursor?: string; limit: number },
) {
  const product = await getVisibleProduct(db, principal, productRef);
  const afterId = decodeCursor(query.cursor, UUID_KEY);
  const rows = await repo.findPlans(db, { productId: product.id, published: query.published, afterId, limit: query.limit });
  return toPage(rows, query.limit, (row) => row.id);
}

/** Creates a plan (a draft unless `published`). */
export async function createPlan(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  productRef: string,
  body: PlanCreateBody,
): Promise<repo.PlanRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  assertNameNotUuid(body.name);
  const now = deps.clock.now();
  const row = await guardUnique(
    repo.insertPlan(db, {
      id: newId(),
      product_id: product.id,
      name: body.name,
      display_name: body.displayName,
      description: body.description ?? '',
      display_order: body.displayOrder ?? 0,
      published: body.published ?? false,
      created_at: now,
      updated_at: now,
    }),
    'plan.name_taken',
    `A plan named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'plan.create',
    objectType: 'plan',
    objectId: row.id,
    productId: product.id,
    after: toPlanView(row),
  });
  return row;
}

/** Changes a plan's names, description or display order. Honours `If-Match`. */
export async function updatePlan(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: { product: string; plan: string },
  body: PlanUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.PlanRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requirePlan(db, product.id, ref.plan, true);
  assertIfMatch(ifMatch, current);
  assertNameNotUuid(body.name);
  const changes = definedOnly({
    name: body.name,
    display_name: body.displayName,
    description: body.description,
    display_order: body.displayOrder,
  });
  const row = await guardUnique(
    repo.updatePlan(db, current.id, { ...changes, updated_at: deps.clock.now() }),
    'plan.name_taken',
    `A plan named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'plan.update',
    objectType: 'plan',
    objectId: row.id,
    productId: product.id,
    before: toPlanView(current),
    after: toPlanView(row),
  });
  return row;
}

/** Publishes or unpublishes a plan; a plan already in that state is left as it is. Honours `If-Match`. */
export async function setPlanPublished(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: { product: string; plan: string },
  published: boolean,
  ifMatch: string | undefined,
): Promise<repo.PlanRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requirePlan(db, product.id, ref.plan, true);
  return switchPublished(
    db,
    deps,
    caller.actor,
    { objectType: 'plan', productId: product.id, current, update: (values) => repo.updatePlan(db, current.id, values), view: toPlanView },
    published,
    ifMatch,
  );
}

/**
 * Deletes a plan with its prices and feature attachments (operators only); refused (409
 * `plan.in_use`) while any tenant is on one of its prices. Honours `If-Match`.
 */
export async function deletePlan(
  db: Db,
  caller: Caller,
  ref: { product: string; plan: string },
  ifMatch: string | undefined,
): Promise<string> {
  requireCatalogueAdmin(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requirePlan(db, product.id, ref.plan, true);
  assertIfMatch(ifMatch, current);
  const inUse = () =>
    new AppError('plan.in_use', { message: 'Tenants are on a price of this plan; move them to another plan first', parameter: 'plan' });
  const tenants = await repo.countTenantsOnPlan(db, current.id);
  if (tenants > 0) throw inUse();
  const prices = await findPricesOfPlans(db, [current.id], { onlyPublished: false });
  const attachments = await findPlanFeaturesOfPlans(db, [current.id]);
  try {
    await repo.deletePlan(db, current.id);
  } catch (error) {
    // A tenant put on one of the prices since the count: the foreign key refuses, and so do we.
    if (isForeignKeyViolation(error)) throw inUse();
    throw error;
  }
  const audit = (action: string, objectType: string, objectId: string, before: unknown) =>
    insertAuditRecord(db, caller.actor, { action, objectType, objectId, productId: product.id, before });
  await audit('plan.delete', 'plan', current.id, toPlanView(current));
  for (const price of prices) await audit('price.delete', 'price', price.id, toPriceView(price));
  for (const attachment of attachments) await audit('plan_feature.delete', 'plan_feature', attachment.id, toPlanFeatureView(attachment));
  return current.id;
}
