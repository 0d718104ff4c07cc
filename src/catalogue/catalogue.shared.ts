import { type Actor, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { assertIfMatch } from '../http/etag.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';

/** What catalogue operations need beyond the database. */
export interface CatalogueDeps {
  clock: Clock;
}

/**
 * Refuses (403) a caller that may not create, change or publish catalogue objects: operators
 * and the product's own clients may (a client's product scope is enforced by the 404 on lookup).
 */
export function requireCatalogueWriter(principal: Principal): void {
  requireRole(principal, 'super_admin', 'product_admin', 'client');
}

/** Refuses (403) a caller that may not delete catalogue objects: operators only, never clients. */
export function requireCatalogueAdmin(principal: Principal): void {
  requireRole(principal, 'super_admin', 'product_admin');
}

/** Refuses a name shaped like a UUID: paths take ids and names alike, so a name must never look like an id. */
export function assertNameNotUuid(name: string | undefined): void {
  if (name !== undefined && isUuid(name))
    throw new AppError('request.invalid', { message: 'A name cannot have the shape of a UUID', parameter: 'name' });
}

/** Runs a write whose unique constraint guards a name; a clash becomes `code` (409) naming `parameter`. */
export async function guardUnique<T>(write: Promise<T>, code: ErrorCode, message: string, parameter = 'name'): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError(code, { message, parameter });
    throw error;
  }
}

/** Only the fields of `patch` that were given (an `undefined` field means "leave as is"). */
export function definedOnly<T extends Record<string, unknown>>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** What switching an object's `published` flag needs to know about its kind. */
export interface Publishable<Row extends { id: string; published: boolean; version: number }> {
  objectType: 'plan' | 'price' | 'specification';
  productId: string;
  /** The row, locked in this transaction. */
  current: Row;
  update: (values: { published: boolean; updated_at: Date }) => Promise<Row>;
  view: (row: Row) => unknown;
}

/**
 * Publishes or unpublishes a locked catalogue row, honouring `If-Match`; a row already
 * in that state is left as it is (no version bump, no audit record).
 */
export async function switchPublished<Row extends { id: string; published: boolean; version: number }>(
  db: Db,
  deps: CatalogueDeps,
  actor: Actor,
  target: Publishable<Row>,
  published: boolean,
  ifMatch: string | undefined,
): Promise<Row> {
  const { current } = target;
  assertIfMatch(ifMatch, current);
  if (current.published === published) return current;
  const row = await target.update({ published, updated_at: deps.clock.now() });
  await insertAuditRecord(db, actor, {
    action: `${target.objectType}.${published ? 'publish' : 'unpublish'}`,
    objectType: target.objectType,
    objectId: row.id,
    productId: target.productId,
    before: target.view(current),
    after: target.view(row),
  });
  return row;
}
