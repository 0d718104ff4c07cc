import { generateCredential, hashSecret, isWellFormed } from '../access/credential-format.ts';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { IdentityDeps } from '../identity/identity-deps.ts';
import { effectivePermissions, loadAccessModel } from '../people/access-model.ts';
import { findMembership, findMembershipById } from '../people/memberships.repo.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { KeyRing } from '../platform/signing-keys.ts';
import { findProduct } from '../products/products.repo.ts';
import { findTenant } from '../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { LIVE_STATUSES, type Status } from '../tenants/workflow.ts';

/** How long a login link works unless asked otherwise (Sharespine's links last minutes). */
export const LOGIN_LINK_TTL_SECONDS = 300;
/** How long the assertion the browser carries to the product is valid: just the redirect. */
export const ASSERTION_TTL_SECONDS = 60;

/** What login links need beyond the database. */
export interface LoginLinkDeps {
  clock: Clock;
  keyRing: KeyRing;
  /** `LANDLORD_PUBLIC_URL`: the base of every `loginUrl` when set. */
  publicUrl?: string;
  /** Sessions, for links that end in a Landlord session (`signIn: landlord`); without it such links sign nobody in. */
  identity?: IdentityDeps;
}

/** A link just issued, in Sharespine's shape. */
export interface IssuedLoginLink {
  path: string;
  loginUrl: string;
  /** ISO 8601 UTC, whole seconds. */
  expires: string;
}

/** Where a login link is opened: `<base>/login/<token>`. */
export const loginUrlOf = (baseUrl: string, token: string) => `${baseUrl}/login/${token}`;

const isLive = (status: string) => LIVE_STATUSES.includes(status as Status);

/**
 * Issues a one-time link that signs the tenant's user `login` into the product. Operators,
 * the product's clients and resellers may; the user must have accepted their invitation,
 * the tenant must be live and the product must have a `signInUrl`. The token is shown
 * only in the returned URL; Landlord keeps its hash.
 */
export async function createLoginLink(
  db: Db,
  deps: LoginLinkDeps,
  caller: Caller,
  tenantRef: string,
  login: string,
  body: { path?: string; expiresInSeconds?: number; signIn?: 'product' | 'landlord' },
  baseUrl: string,
): Promise<IssuedLoginLink> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef);
  const membership = await findMembership(db, tenant.id, login);
  if (!membership) throw new AppError('membership.not_found', { message: `The tenant has no user "${login}"`, parameter: 'login' });
  if (membership.status !== 'active') throw new AppError('membership.not_active', { parameter: 'login' });
  if (!isLive(tenant.status)) {
    throw new AppError('tenant.not_live', { message: `The tenant is ${tenant.status}; nobody can sign in to it now`, parameter: 'tenant' });
  }
  const product = await findProduct(db, tenant.product_id);
  const signsInTo = body.signIn ?? 'product';
  if (!product) throw new AppError('tenant.not_found', { parameter: 'tenant' });
  if (signsInTo === 'product' && !product.sign_in_url) throw new AppError('product.no_sign_in_url', { parameter: 'signInUrl' });

  const token = generateCredential('llln');
  const now = deps.clock.now();
  // Whole seconds, so the `expires` shown is exactly when the link stops working.
  const expires = new Date(Math.floor(now.getTime() / 1000 + (body.expiresInSeconds ?? LOGIN_LINK_TTL_SECONDS)) * 1000);
  // A link to a Landlord session lands on the user's account page unless it names a Landlord path.
  const path = body.path ?? (signsInTo === 'landlord' ? `/account/${product.name}` : '/');
  const id = newId();
  await db
    .insertInto('login_links')
    .values({
      id,
      token_hash: hashSecret(token),
      membership_id: membership.id,
      path,
      expires_at: expires,
      created_at: now,
      signs_in_to: signsInTo,
    })
    .execute();
  const issued = { path, expires: expires.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  await insertAuditRecord(db, caller.actor, {
    action: 'login_link.create',
    objectType: 'login_link',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: { ...issued, membership: membership.id, login: membership.login },
  });
  return { ...issued, loginUrl: loginUrlOf(baseUrl, token) };
}

/** Why a link did not sign anyone in. */
export type LinkFailure = 'invalid' | 'used' | 'expired' | 'unavailable';

/**
 * Opens a login link: consumes it (one conditional update, so two clicks cannot both
 * win), then signs an assertion for the product — the tenant, the user's login and
 * e-mail, their permissions and the path, audience the product's name, a unique `jti`
 * — and returns where to send the browser. Run it in a transaction: if anything after
 * the update fails, the link is not spent.
 */
export async function openLoginLink(
  db: Db,
  deps: LoginLinkDeps,
  token: string,
  requestId: string,
): Promise<
  | { ok: true; location: string }
  | { ok: true; location: string; landlordSession: { userId: string; membershipId: string; productId: string } }
  | { ok: false; reason: LinkFailure }
> {
  // A token without a valid checksum was tampered with or made up: no need to ask the database.
  if (!isWellFormed(token, 'llln')) return { ok: false, reason: 'invalid' };
  const hash = hashSecret(token);
  const now = deps.clock.now();
  const consumed = await db
    .updateTable('login_links')
    .set({ used_at: now })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'membership_id', 'path', 'signs_in_to'])
    .executeTakeFirst();
  if (!consumed) {
    const link = await db.selectFrom('login_links').select(['used_at']).where('token_hash', '=', hash).executeTakeFirst();
    return { ok: false, reason: !link ? 'invalid' : link.used_at ? 'used' : 'expired' };
  }
  const membership = await findMembershipById(db, consumed.membership_id);
  const tenant = membership && (await findTenant(db, membership.tenant_id));
  const product = tenant && (await findProduct(db, tenant.product_id));
  // Things may have changed since the link was issued: the tenant went down, the product lost its sign-in URL.
  if (!membership?.user_id || !membership.user_email || !tenant || !isLive(tenant.status) || !product)
    return { ok: false, reason: 'unavailable' };
  const userId = membership.user_id;
  const auditUse = (after: Record<string, unknown>) =>
    insertAuditRecord(
      db,
      { type: 'user', id: userId, requestId },
      {
        action: 'login_link.use',
        objectType: 'login_link',
        objectId: consumed.id,
        productId: tenant.product_id,
        tenantId: tenant.id,
        after: { login: membership.login, path: consumed.path, ...after },
      },
    );
  if (consumed.signs_in_to === 'landlord') {
    await auditUse({ signsInTo: 'landlord' });
    return {
      ok: true,
      location: consumed.path,
      landlordSession: { userId: membership.user_id, membershipId: membership.id, productId: tenant.product_id },
    };
  }
  if (!product.sign_in_url) return { ok: false, reason: 'unavailable' };
  const permissions = effectivePermissions(await loadAccessModel(db, tenant.product_id), membership);
  const assertion = await deps.keyRing.sign(
    {
      tenant: tenant.name,
      tid: tenant.id,
      login: membership.login,
      email: membership.user_email,
      name: membership.full_name,
      permissions,
      path: consumed.path,
    },
    { subject: membership.user_id, audience: product.name, expiresInSeconds: ASSERTION_TTL_SECONDS },
  );
  await auditUse({});
  const location = new URL(product.sign_in_url);
  location.searchParams.set('assertion', assertion);
  location.searchParams.set('path', consumed.path);
  return { ok: true, location: location.toString() };
}
