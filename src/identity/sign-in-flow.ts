import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import { isUuid } from '../platform/ids.ts';
import { chooseSessionTenant, type Session, sessionOfRequest } from '../sessions/session-store.ts';
import type { IdentityDeps } from './identity-deps.ts';
import { type SignInScope, signInTenantsOf } from './tenant-context.ts';

/** Where a signed-in browser may be sent back to: a path on Landlord, never another site. */
export function safeReturnPath(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 4000 ? value : fallback;
}

/** The sign-in page of a product, coming back to `returnTo` (and naming a tenant or a scope, when the request did). */
export function signInPath(productName: string, returnTo: string, tenant?: string, scope?: SignInScope): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (tenant) query.set('tenant', tenant);
  if (scope) query.set('marketplace', scope.marketplaceId);
  return `/signin/${encodeURIComponent(productName)}?${query}`;
}

/** The page that lets a user of several tenants (within `scope`) choose one. */
export function tenantChooserPath(productName: string, returnTo: string, scope?: SignInScope): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (scope) query.set('marketplace', scope.marketplaceId);
  return `/signin/${encodeURIComponent(productName)}/tenant?${query}`;
}

/**
 * The scope the sign-in pages carry from the protocol that sent the browser there (`?marketplace=`).
 * Anything but a UUID is ignored: the pages then offer all of the user's own tenants, and the
 * protocol checks the choice again.
 */
export function scopeOfQuery(query: { marketplace?: string }): SignInScope | undefined {
  return query.marketplace && isUuid(query.marketplace) ? { marketplaceId: query.marketplace } : undefined;
}

/** Where a sign-in for a product stands: done (a session and a tenant), or where the browser must go first. */
export type SignInState =
  | { kind: 'ready'; session: Session; membershipId: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'no_tenant'; session: Session };

/**
 * The step every sign-in protocol (OIDC, SAML, a channel's SSO) takes first: the
 * request's Landlord session and the tenant it chose for the product. Without a session,
 * the browser goes to the sign-in page; a user of several tenants without a choice (or
 * whose choice is no longer live) goes to the chooser; `tenantHint` (a tenant name or id
 * the request named) picks one of theirs directly. Both come back to `returnTo`. With `scope`,
 * only the tenants within it count: remembered, picked alone or offered by the chooser.
 */
export async function signInState(
  db: Db,
  deps: IdentityDeps,
  request: FastifyRequest,
  product: { id: string; name: string },
  returnTo: string,
  tenantHint?: string,
  scope?: SignInScope,
): Promise<SignInState> {
  const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
  if (!session) return { kind: 'redirect', location: signInPath(product.name, returnTo, tenantHint, scope) };
  const tenants = await signInTenantsOf(db, session.subjectId, product.id, scope);
  const hinted = tenantHint ? tenants.find((tenant) => tenant.tenantName === tenantHint || tenant.tenantId === tenantHint) : undefined;
  const remembered = tenants.find((tenant) => tenant.membershipId === session.tenants[product.id]);
  const only = tenants.length === 1 ? tenants[0] : undefined;
  const chosen = hinted ?? remembered ?? only;
  if (chosen) {
    if (chosen.membershipId !== session.tenants[product.id]) {
      await chooseSessionTenant(db, session.id, product.id, chosen.membershipId);
      session.tenants = { ...session.tenants, [product.id]: chosen.membershipId };
    }
    return { kind: 'ready', session, membershipId: chosen.membershipId };
  }
  if (tenants.length === 0) return { kind: 'no_tenant', session };
  return { kind: 'redirect', location: tenantChooserPath(product.name, returnTo, scope) };
}
