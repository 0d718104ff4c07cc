import { AppError } from '../errors/app-error.ts';

/**
 * What a credential may do: everything, one product's administration, a product backend's work,
 * or (`tenant`) what one tenant's API connection holds — accepted only by the routes that ask for it.
 */
export type Role = 'super_admin' | 'product_admin' | 'client' | 'tenant';

/** Who is calling, resolved from the credential on every request. */
export interface Principal {
  /** How the caller proved itself. */
  kind: 'admin_key' | 'api_key' | 'client' | 'reseller' | 'connection' | 'marketplace' | 'user';
  /** The credential's id (api key id, client id); stable, used for audit, rate limits and idempotency. */
  id: string;
  role: Role;
  /** The one product this credential is confined to; null for super admins. */
  productId: string | null;
  name: string;
  /** The one tenant a `tenant` credential (an API connection) acts in; absent for every other credential. */
  tenantId?: string;
}

/** The fields of an audit record that say who acted. */
export interface Actor {
  /** `user`: a person acting with a token they hold (accepting an invitation, opening a login link). */
  type: Principal['kind'] | 'system' | 'external_system' | 'user';
  id: string;
  requestId: string | null;
}

/** The audit actor for a request's principal. */
export function actorOf(principal: Principal, requestId: string): Actor {
  return { type: principal.kind, id: principal.id, requestId };
}

/** The actor for work Landlord does on its own (jobs, schedules). */
export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'landlord', requestId: null };

/** Refuses (403) a principal whose role is not among `roles`. */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (!roles.includes(principal.role)) {
    throw new AppError('auth.forbidden', { message: `This needs a ${roles.join(' or ')} credential; this one is ${principal.role}` });
  }
}

/** True when the principal may see objects of `productId` (a foreign product's objects answer 404). */
export function canSeeProduct(principal: Principal, productId: string): boolean {
  return principal.productId === null || principal.productId === productId;
}

/** The caller of a service function: who it is (for scoping) and how it is recorded (for audit). */
export interface Caller {
  principal: Principal;
  actor: Actor;
}
