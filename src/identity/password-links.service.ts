import { generateCredential, hashSecret, isWellFormed } from '../access/credential-format.ts';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import { revokeSessionGrants } from '../oidc/tenant-grants.ts';
import { findMembership, findUser } from '../people/memberships.repo.ts';
import { newId } from '../platform/ids.ts';
import { revokeSubjectSessions, type Session } from '../sessions/session-store.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import type { IdentityDeps } from './identity-deps.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { type SignInContext, startUserSession } from './sign-in.service.ts';
import { recordFailure } from './throttle.ts';

/** How long a link to set a first password works (it rides with an invitation-like message). */
export const SET_LINK_TTL_SECONDS = 7 * 24 * 3600;
/** How long a password reset link works. */
export const RESET_LINK_TTL_SECONDS = 3600;
// At most 5 reset requests per address in 15 minutes: each one may reach someone's inbox.
const RESET_REQUESTS = { maxFailures: 5, windowSeconds: 900, blockSeconds: 900 };

/** Where a password link is opened. */
export const passwordLinkUrl = (baseUrl: string, token: string) => `${baseUrl}/password/${token}`;

/** A password link just issued: its URL (shown once), purpose and end. */
export interface IssuedPasswordLink {
  url: string;
  purpose: 'set' | 'reset';
  expires: string;
}

async function insertLink(db: Db, deps: IdentityDeps, userId: string, productId: string, purpose: 'set' | 'reset', ttlSeconds: number) {
  const token = generateCredential('llpw');
  const now = deps.clock.now();
  const expires = new Date(Math.floor(now.getTime() / 1000 + ttlSeconds) * 1000);
  const id = newId();
  await db
    .insertInto('password_links')
    .values({ id, token_hash: hashSecret(token), user_id: userId, product_id: productId, purpose, expires_at: expires, created_at: now })
    .execute();
  return { id, url: passwordLinkUrl(deps.baseUrl(), token), purpose, expires: expires.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/**
 * Issues a one-time link with which the tenant's user `login` sets (or resets) their
 * password, for the product to deliver. Operators and the product's clients; the URL is
 * in this answer only.
 */
export async function createPasswordLink(
  db: Db,
  deps: IdentityDeps,
  caller: Caller,
  tenantRef: string,
  login: string,
  body: { purpose?: 'set' | 'reset'; expiresInSeconds?: number },
): Promise<IssuedPasswordLink> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef);
  const membership = await findMembership(db, tenant.id, login);
  if (!membership) throw new AppError('membership.not_found', { message: `The tenant has no user "${login}"`, parameter: 'login' });
  if (membership.status !== 'active' || !membership.user_id) throw new AppError('membership.not_active', { parameter: 'login' });
  const purpose = body.purpose ?? 'set';
  const ttl = body.expiresInSeconds ?? (purpose === 'set' ? SET_LINK_TTL_SECONDS : RESET_LINK_TTL_SECONDS);
  const { id, ...issued } = await insertLink(db, deps, membership.user_id, tenant.product_id, purpose, ttl);
  await insertAuditRecord(db, caller.actor, {
    action: 'password_link.create',
    objectType: 'password_link',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: { purpose, expires: issued.expires, user: membership.user_id, login: membership.login },
  });
  return issued;
}

/**
 * "Forgot your password?": when the e-mail belongs to a user of the product, issues a
 * reset link and emits `password.reset_requested` carrying it, for the product (or its
 * mailer) to deliver — Landlord sends no e-mail. Whatever the e-mail, the caller learns
 * nothing; requests are limited per address.
 */
export async function requestPasswordReset(db: Db, deps: IdentityDeps, context: SignInContext, email: string): Promise<void> {
  await recordFailure(db, deps.clock, `reset:${context.ip}`, RESET_REQUESTS);
  const blocked = await db
    .selectFrom('sign_in_throttle')
    .select('key')
    .where('key', '=', `reset:${context.ip}`)
    .where('blocked_until', '>', deps.clock.now())
    .executeTakeFirst();
  if (blocked) return;
  const user = await findUser(db, email.trim());
  if (!user) return;
  const member = await db
    .selectFrom('memberships')
    .select('id')
    .where('user_id', '=', user.id)
    .where('product_id', '=', context.productId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!member) return;
  const { id, ...issued } = await insertLink(db, deps, user.id, context.productId, 'reset', RESET_LINK_TTL_SECONDS);
  await insertAuditRecord(
    db,
    { type: 'user', id: 'anonymous', requestId: context.requestId },
    {
      action: 'password_link.request',
      objectType: 'password_link',
      objectId: id,
      productId: context.productId,
      after: { purpose: 'reset', expires: issued.expires, user: user.id, ip: context.ip },
    },
  );
  // The one event that carries a secret: it is how the link reaches the user.
  await recordEvent(db, {
    type: 'password.reset_requested',
    productId: context.productId,
    data: { password: { user: user.id, email: user.email, fullName: user.full_name, resetUrl: issued.url, expires: issued.expires } },
  });
}

/** Why a password link cannot be used. */
export type PasswordLinkFailure = 'invalid' | 'used' | 'expired';

/** The unspent, unexpired link a token opens (without spending it), with its user's e-mail. */
export async function findUsablePasswordLink(
  db: Db,
  deps: IdentityDeps,
  token: string,
): Promise<{ ok: true; userId: string; email: string; productId: string } | { ok: false; reason: PasswordLinkFailure }> {
  if (!isWellFormed(token, 'llpw')) return { ok: false, reason: 'invalid' };
  const link = await db
    .selectFrom('password_links')
    .innerJoin('users', 'users.id', 'password_links.user_id')
    .select(['password_links.used_at', 'password_links.expires_at', 'password_links.product_id', 'users.id as user_id', 'users.email'])
    .where('token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  if (!link) return { ok: false, reason: 'invalid' };
  if (link.used_at) return { ok: false, reason: 'used' };
  if (link.expires_at <= deps.clock.now()) return { ok: false, reason: 'expired' };
  return { ok: true, userId: link.user_id, email: link.email, productId: link.product_id };
}

/**
 * Sets the password with a link: spends the link (one conditional update, so it works
 * once), stores the argon2id hash, ends every other session of the user, records
 * `password.changed`, and signs the user in. Run it in a transaction.
 */
export async function setPasswordWithLink(
  db: Db,
  deps: IdentityDeps,
  context: Omit<SignInContext, 'productId'>,
  token: string,
  password: string,
): Promise<
  | { ok: true; token: string; session: Session; productId: string }
  | { ok: false; reason: PasswordLinkFailure }
  | { ok: false; problem: string }
> {
  const usable = await findUsablePasswordLink(db, deps, token);
  if (!usable.ok) return usable;
  const problem = passwordProblem(password, usable.email);
  if (problem) return { ok: false, problem };
  const now = deps.clock.now();
  const spent = await db
    .updateTable('password_links')
    .set({ used_at: now })
    .where('token_hash', '=', hashSecret(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('purpose')
    .executeTakeFirst();
  if (!spent) return { ok: false, reason: 'used' };
  const hash = await hashPassword(password);
  await db
    .insertInto('user_passwords')
    .values({ user_id: usable.userId, hash, updated_at: now })
    .onConflict((conflict) => conflict.column('user_id').doUpdateSet({ hash, updated_at: now }))
    .execute();
  const ended = await revokeSubjectSessions(db, deps.clock, 'user', usable.userId, 'password_changed');
  for (const sessionId of ended) await revokeSessionGrants(db, sessionId);
  await insertAuditRecord(
    db,
    { type: 'user', id: usable.userId, requestId: context.requestId },
    {
      action: 'password.change',
      objectType: 'password',
      objectId: usable.userId,
      productId: usable.productId,
      after: { user: usable.userId, via: `${spent.purpose}_link`, sessionsEnded: ended.length, ip: context.ip },
    },
  );
  const started = await startUserSession(db, deps, { ...context, productId: usable.productId }, usable.userId, 'password_link');
  return { ok: true, ...started, productId: usable.productId };
}
