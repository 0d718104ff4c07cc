import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
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
import { toSpecificationView } from './catalogue.views.ts';
import { patternProblem } from './specification-values.ts';
import * as repo from './specifications.repo.ts';
import type { SpecificationCreateBody, SpecificationUpdateBody } from './specifications.schemas.ts';

type SpecificationRef = { product: string; specification: string };

async function requireSpecification(db: Db, productId: string, ref: string, forUpdate = false): Promise<repo.SpecificationRow> {
  const row = await repo.findSpecification(db, productId, ref, { forUpdate });
  if (!row)
    throw new AppError('specification.not_found', { message: `The product has no specification "${ref}"`, parameter: 'specification' });
  return row;
}

// Tenants' values are checked against the pattern on every write, so it must compile and run in bounded time.
function assertUsablePattern(pattern: string | null | undefined): void {
  if (pattern === null || pattern === undefined) return;
  const problem = patternProblem(pattern);
  if (problem) throw new AppError(problem.code, { message: problem.message, parameter: 'pattern' });
}

/** A specification of a product the caller may see. */
export async function getSpecification(db: Db, principal: Principal, ref: SpecificationRef): Promise<repo.SpecificationRow> {
  const product = await getVisibleProduct(db, principal, ref.product);
  return requireSpecification(db, product.id, ref.specification);
}

/** One page of a product's specifications, optionally only the (un)published ones. */
export async function listSpecifications(
  db: Db,
  principal: Principal,
  productRef: string,
  query: { published?: boolean; cursor?: string; limit: number },
) {
  const product = await getVisibleProduct(db, principal, productRef);
  const afterId = decodeCursor(query.cursor, UUID_KEY);
  const rows = await repo.findSpecifications(db, { productId: product.id, published: query.published, afterId, limit: query.limit });
  return toPage(rows, query.limit, (row) => row.id);
}

/** Creates a specification (a draft unless `published`); a pattern must be valid and safe. */
export async function createSpecification(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  productRef: string,
  body: SpecificationCreateBody,
): Promise<repo.SpecificationRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  assertNameNotUuid(body.name);
  assertUsablePattern(body.pattern);
  const now = deps.clock.now();
  const row = await guardUnique(
    repo.insertSpecification(db, {
      id: newId(),
      product_id: product.id,
      name: body.name,
      display_name: body.displayName,
      description: body.description ?? '',
      type: body.type,
      required: body.required ?? false,
      pattern: body.pattern ?? null,
      user_editable: body.userEditable ?? true,
      published: body.published ?? false,
      created_at: now,
      updated_at: now,
    }),
    'specification.name_taken',
    `A specification named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'specification.create',
    objectType: 'specification',
    objectId: row.id,
    productId: product.id,
    after: toSpecificationView(row),
  });
  return row;
}

/**
 * Changes a specification. Tenants' values are keyed by name, so a specification some
 * tenant has a value for cannot be renamed (409). Honours `If-Match`.
 */
export async function updateSpecification(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: SpecificationRef,
  body: SpecificationUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.SpecificationRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requireSpecification(db, product.id, ref.specification, true);
  assertIfMatch(ifMatch, current);
  assertNameNotUuid(body.name);
  assertUsablePattern(body.pattern);
  if (body.name !== undefined && body.name !== current.name) {
    const tenants = await repo.countTenantsWithValue(db, product.id, current.name);
    if (tenants > 0)
      throw new AppError('specification.in_use', {
        message: `${tenants} tenant(s) have a value for "${current.name}"; it cannot be renamed`,
        parameter: 'name',
      });
  }
  const changes = definedOnly({
    name: body.name,
    display_name: body.displayName,
    description: body.description,
    type: body.type,
    required: body.required,
    pattern: body.pattern,
    user_editable: body.userEditable,
  });
  const row = await guardUnique(
    repo.updateSpecification(db, current.id, { ...changes, updated_at: deps.clock.now() }),
    'specification.name_taken',
    `A specification named "${body.name}" exists already in this product`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'specification.update',
    objectType: 'specification',
    objectId: row.id,
    productId: product.id,
    before: toSpecificationView(current),
    after: toSpecificationView(row),
  });
  return row;
}

/** Publishes or unpublishes a specification; one already in that state is left as it is. Honours `If-Match`. */
export async function setSpecificationPublished(
  db: Db,
  deps: CatalogueDeps,
  caller: Caller,
  ref: SpecificationRef,
  published: boolean,
  ifMatch: string | undefined,
): Promise<repo.SpecificationRow> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requireSpecification(db, product.id, ref.specification, true);
  return switchPublished(
    db,
    deps,
    caller.actor,
    {
      objectType: 'specification',
      productId: product.id,
      current,
      update: (values) => repo.updateSpecification(db, current.id, values),
      view: toSpecificationView,
    },
    published,
    ifMatch,
  );
}

/** Deletes a specification (operators only); refused (409) while any tenant of the product has a value for it. */
export async function deleteSpecification(db: Db, caller: Caller, ref: SpecificationRef, ifMatch: string | undefined): Promise<string> {
  requireCatalogueAdmin(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, ref.product);
  const current = await requireSpecification(db, product.id, ref.specification, true);
  assertIfMatch(ifMatch, current);
  const tenants = await repo.countTenantsWithValue(db, product.id, current.name);
  if (tenants > 0)
    throw new AppError('specification.in_use', {
      message: `${tenants} tenant(s) have a value for "${current.name}"; remove those values first`,
      parameter: 'specification',
    });
  await repo.deleteSpecification(db, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'specification.delete',
    objectType: 'specification',
    objectId: current.id,
    productId: product.id,
    before: toSpecificationView(current),
  });
  return current.id;
}
