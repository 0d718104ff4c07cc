import { type Principal, requireRole } from '../access/principal.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
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
