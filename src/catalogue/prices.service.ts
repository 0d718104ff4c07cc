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
import { toPriceView } from './catalogue.views.ts';
import { requirePlan } from './plans.service.ts';
import * as repo from './prices.repo.ts';
import type { PriceCreateBody, PriceUpdateBody } from './prices.schemas.ts';

type PriceRef = { product: string; plan: string; price: string };

async function requirePrice(db: Db, planId: string, ref: string, forUpdate = false): Promise<repo.PriceRow> {
  const row = await repo.findPrice(db, planId, ref, { forUpdate });
  if (!row) throw new AppError('price.not_found', { message: `The plan has no price "${ref}"`, parameter: 'price' });
  return row;
}

/** The price (and the facts of its plan) a tenant is to be sold; 404 when the product has none such, 400 when not on sale. */
export async function requirePublishedPrice(db: Db, productId: string, ref: string, parameter: string): Promise<repo.ProductPriceRow> {
  const row = await repo.findPriceForProduct(db, productId, ref);
  if (!row) throw new AppError('price.not_found', { message: `The product has no plan price "${ref}"`, parameter });
  if (!row.published || !row.plan_published)
    throw new AppError('price.not_published', {
      message: `The plan price "${row.name}" or its plan "${row.plan_name}" is not published`,
      parameter,
    });
  return row;
}

// A custom cycle needs its length in days; any other cycle has none.
function assertCycle(cycle: string, customDays: number | null): void {
  if (cycle === 'custom' && customDays === null)
    throw new AppError('request.invalid', { message: 'A custom cycle needs customDays', parameter: 'customDays' });
  if (cycle !== 'custom' && customDays !== null)
    throw new AppError('request.invalid', { message: `customDays is only for the custom cycle, not ${cycle}`, parameter: 'customDays' });
}

/** A price of a plan the caller may see. */
export async function getPrice(db: Db, principal: Principal, ref: PriceRef): Promise<repo.PriceRow> {
  const product = await getVisibleProduct(db, principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  return requirePrice(db, plan.id, ref.price);
}

/** One page of a plan's prices, optionally only the (un)published ones. */
export async function listPrices(
  db: Db,
  principal: Principal,
  ref: { product: string; plan: string },
  query: { published?: boolean; cursor?: string; limit: number },
) {
  const product = await getVisibleProduct(db, principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const afterId = decodeCursor(query.cursor, UUID_KEY);
  const rows = await repo.findPrices(db, { planId: plan.id, published: query.published, afterId, limit: query.limit });
  return toPage(rows, query.limit, (row) => row.id);
}

/** Creates a price of a plan (a draft unless `published`); its name is unique within the product. */
export async function createPrice(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: { product: string; plan: string },
  body: PriceCreateBody,
): Promise<repo.PriceRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  assertNameNotUuid(body.name);
  const customDays = body.customDays ?? null;
  assertCycle(body.cycle, customDays);
  const now = deps.clock.now();
  const row = await guardUnique(
    repo.insertPrice(db, {
      id: newId(),
      product_id: product.id,
      plan_id: plan.id,
      name: body.name,
      cycle: body.cycle,
      custom_days: customDays,
      amount_minor: body.amount,
      currency: body.currency,
      trial_days: body.trialDays ?? 0,
      published: body.published ?? false,
      created_at: now,
      updated_at: now,
    }),
    'price.name_taken',
    `A price named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'price.create',
    objectType: 'price',
    objectId: row.id,
    productId: product.id,
    after: toPriceView(row),
  });
  return row;
}

/**
 * Changes a price. Leaving `custom` for another cycle drops `customDays`; moving to
 * `custom` needs it. Tenants already on the price see the change. Honours `If-Match`.
 */
export async function updatePrice(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: PriceRef,
  body: PriceUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.PriceRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const current = await requirePrice(db, plan.id, ref.price, true);
  assertIfMatch(ifMatch, current);
  assertNameNotUuid(body.name);
  const cycle = body.cycle ?? current.cycle;
  const customDays = body.customDays !== undefined ? body.customDays : cycle === 'custom' ? current.custom_days : null;
  assertCycle(cycle, customDays);
  const changes = definedOnly({ name: body.name, amount_minor: body.amount, currency: body.currency, trial_days: body.trialDays });
  const row = await guardUnique(
    repo.updatePrice(db, current.id, { ...changes, cycle, custom_days: customDays, updated_at: deps.clock.now() }),
    'price.name_taken',
    `A price named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'price.update',
    objectType: 'price',
    objectId: row.id,
    productId: product.id,
    before: toPriceView(current),
    after: toPriceView(row),
  });
  return row;
}

/** Publishes or unpublishes a price; a price already in that state is left as it is. Honours `If-Match`. */
export async function setPricePublished(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: PriceRef,
  published: boolean,
  ifMatch: string | undefined,
): Promise<repo.PriceRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const current = await requirePrice(db, plan.id, ref.price, true);
  return switchPublished(
    db,
    deps,
    caller.actor,
    {
      objectType: 'price',
      productId: product.id,
      current,
      update: (values) => repo.updatePrice(db, current.id, values),
      view: toPriceView,
    },
    published,
    ifMatch,
  );
}

/** Deletes a price (operators only); refused (409 `price.in_use`) while tenants are on it. Honours `If-Match`. */
export async function deletePrice(db: Db, caller: Caller, ref: PriceRef, ifMatch: string | undefined): Promise<string> {
  requireCatalogueAdmin(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const plan = await requirePlan(db, product.id, ref.plan);
  const current = await requirePrice(db, plan.id, ref.price, true);
  assertIfMatch(ifMatch, current);
  const inUse = (count?: number) =>
    new AppError('price.in_use', {
      message: `${count ?? 'Some'} tenant(s) are on this price; move them to another price first`,
      parameter: 'price',
    });
  const tenants = await repo.countTenantsOnPrice(db, current.id);
  if (tenants > 0) throw inUse(tenants);
  try {
    await repo.deletePrice(db, current.id);
  } catch (error) {
    // A tenant put on the price since the count: the foreign key refuses, and so do we.
    if (isForeignKeyViolation(error)) throw inUse();
    throw error;
  }
  await insertAuditRecord(db, caller.actor, {
    action: 'price.delete',
    objectType: 'price',
    objectId: current.id,
    productId: product.id,
    before: toPriceView(current),
  });
  return current.id;
}
