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
} from './catalogue.shared.ts';
import { toFeatureView } from './catalogue.views.ts';
import * as repo from './features.repo.ts';
import type { FeatureCreateBody, FeatureUpdateBody } from './features.schemas.ts';

type FeatureRef = { product: string; feature: string };

/** The feature `ref` (id or name) of a product; 404 `feature.not_found` naming `parameter` when it has none such. */
export async function requireFeature(
  db: Db,
  productId: string,
  ref: string,
  parameter = 'feature',
  forUpdate = false,
): Promise<repo.FeatureRow> {
  const row = await repo.findFeature(db, productId, ref, { forUpdate });
  if (!row) throw new AppError('feature.not_found', { message: `The product has no feature "${ref}"`, parameter });
  return row;
}

/** A feature of a product the caller may see. */
export async function getFeature(db: Db, principal: Principal, ref: FeatureRef): Promise<repo.FeatureRow> {
  const product = await getVisibleProduct(db, principal, ref.product);
  return requireFeature(db, product.id, ref.feature);
}

/** One page of a product's features. */
export async function listFeatures(db: Db, principal: Principal, productRef: string, query: { cursor?: string; limit: number }) {
  const product = await getVisibleProduct(db, principal, productRef);
  const afterId = decodeCursor(query.cursor, UUID_KEY);
  const rows = await repo.findFeatures(db, { productId: product.id, afterId, limit: query.limit });
  return toPage(rows, query.limit, (row) => row.id);
}

/** Creates a feature plans can then include. */
export async function createFeature(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  productRef: string,
  body: FeatureCreateBody,
): Promise<repo.FeatureRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  assertNameNotUuid(body.name);
  const now = deps.clock.now();
  const row = await guardUnique(
    repo.insertFeature(db, {
      id: newId(),
      product_id: product.id,
      name: body.name,
      display_name: body.displayName,
      description: body.description ?? '',
      type: body.type,
      unit: body.unit ?? null,
      created_at: now,
      updated_at: now,
    }),
    'feature.name_taken',
    `A feature named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'feature.create',
    objectType: 'feature',
    objectId: row.id,
    productId: product.id,
    after: toFeatureView(row),
  });
  return row;
}

/** Changes a feature; its type only while no plan includes it (their limits assume it). Honours `If-Match`. */
export async function updateFeature(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: FeatureRef,
  body: FeatureUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.FeatureRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requireFeature(db, product.id, ref.feature, 'feature', true);
  assertIfMatch(ifMatch, current);
  assertNameNotUuid(body.name);
  if (body.type !== undefined && body.type !== current.type) {
    const plans = await repo.countPlansWithFeature(db, current.id);
    if (plans > 0)
      throw new AppError('feature.in_use', {
        message: `The feature is included in ${plans} plan(s); its type cannot change until it is detached`,
        parameter: 'type',
      });
  }
  const changes = definedOnly({
    name: body.name,
    display_name: body.displayName,
    description: body.description,
    type: body.type,
    unit: body.unit,
  });
  const row = await guardUnique(
    repo.updateFeature(db, current.id, { ...changes, updated_at: deps.clock.now() }),
    'feature.name_taken',
    `A feature named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'feature.update',
    objectType: 'feature',
    objectId: row.id,
    productId: product.id,
    before: toFeatureView(current),
    after: toFeatureView(row),
  });
  return row;
}

/** Deletes a feature (operators only); refused (409 `feature.in_use`) while plans include it. Honours `If-Match`. */
export async function deleteFeature(db: Db, caller: Caller, ref: FeatureRef, ifMatch: string | undefined): Promise<string> {
  requireCatalogueAdmin(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requireFeature(db, product.id, ref.feature, 'feature', true);
  assertIfMatch(ifMatch, current);
  const inUse = (count?: number) =>
    new AppError('feature.in_use', {
      message: `The feature is included in ${count ?? 'some'} plan(s); detach it from them first`,
      parameter: 'feature',
    });
  const plans = await repo.countPlansWithFeature(db, current.id);
  if (plans > 0) throw inUse(plans);
  try {
    await repo.deleteFeature(db, current.id);
  } catch (error) {
    // Attached to a plan since the count: the foreign key refuses, and so do we.
    if (isForeignKeyViolation(error)) throw inUse();
    throw error;
  }
  await insertAuditRecord(db, caller.actor, {
    action: 'feature.delete',
    objectType: 'feature',
    objectId: current.id,
    productId: product.id,
    before: toFeatureView(current),
  });
  return current.id;
}
