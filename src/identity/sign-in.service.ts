import type { Actor } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { findUser } from '../people/memberships.repo.ts';
import { type Session, startSession } from '../sessions/session-store.ts';
import type { IdentityDeps } from './identity-deps.ts';
import { verifyPassword } from './passwords.ts';
import { blockedFor, clearFailures, recordFailure, THROTTLE_RULES, throttleKeys } from './throttle.ts';

/** Where a sign-in comes from: the product whose page it is, and the browser. */
export interface SignInContext {
  productId: string;
  ip: string;
  userAgent?: string;
  requestId: string;
}

/** The outcome of a sign-in attempt; a wrong password and an unknown e-mail are the same `invalid`. */
export type SignInOutcome =
  | { ok: true; session: Session; token: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

const userActor = (id: string, requestId: string): Actor => ({ type: 'user', id, requestId });

/** The session as audit records and events show it (never its token). */
export function sessionView(session: Session, productId?: string) {
  return {
    id: session.id,
    user: session.subjectId,
    method: session.method,
    product: productId ?? null,
    ip: session.ip,
    userAgent: session.userAgent,
    createdAt: session.createdAt.toISOString(),
    idleExpiresAt: session.idleExpiresAt.toISOString(),
    expiresAt: session.absoluteExpiresAt.toISOString(),
  };
}

/**
 * Signs a user in with e-mail and password. Throttled per account and per address
 * (checked first, so a blocked key costs no hash); an unknown e-mail verifies against a
 * dummy hash, so it answers like a wrong password in what and in how long. Every failure
 * is audited and emitted (`sign_in.failed`); a success starts a session (`session.created`).
 */
export async function signInWithPassword(
  db: Db,
  deps: IdentityDeps,
  context: SignInContext,
  email: string,
  password: string,
): Promise<SignInOutcome> {
  const keys = throttleKeys(email, context.ip);
  const fail = async (reason: 'invalid_credentials' | 'throttled') =>
    insertAuditRecord(
      db,
      { type: 'user', id: 'anonymous', requestId: context.requestId },
      {
        action: 'sign_in.fail',
        objectType: 'sign_in',
        objectId: email.trim().toLowerCase(),
        productId: context.productId,
        after: { email: email.trim().toLowerCase(), reason, ip: context.ip, method: 'password' },
      },
    );
  const wait = await blockedFor(db, deps.clock, [keys.account, keys.address]);
  if (wait > 0) {
    await fail('throttled');
    return { ok: false, reason: 'throttled', retryAfterSeconds: wait };
  }
  const user = await findUser(db, email.trim());
  const stored = user && (await db.selectFrom('user_passwords').select('hash').where('user_id', '=', user.id).executeTakeFirst());
  const valid = await verifyPassword(stored?.hash, password);
  if (!user || !valid) {
    await recordFailure(db, deps.clock, keys.account, THROTTLE_RULES.account);
    await recordFailure(db, deps.clock, keys.address, THROTTLE_RULES.address);
    await fail('invalid_credentials');
    return { ok: false, reason: 'invalid' };
  }
  await clearFailures(db, keys.account);
  return { ok: true, ...(await startUserSession(db, deps, context, user.id, 'password')) };
}

/** Starts a tenant user's Landlord session (however they proved themselves) and records `session.created`. */
export async function startUserSession(
  db: Db,
  deps: IdentityDeps,
  context: SignInContext,
  userId: string,
  method: 'password' | 'login_link' | 'password_link',
  tenants: Record<string, string> = {},
): Promise<{ session: Session; token: string }> {
  const started = await startSession(db, deps.clock, deps.sessions, {
    subjectId: userId,
    method,
    ip: context.ip,
    userAgent: context.userAgent,
    tenants,
  });
  await insertAuditRecord(db, userActor(userId, context.requestId), {
    action: 'session.create',
    objectType: 'session',
    objectId: started.session.id,
    productId: context.productId,
    after: sessionView(started.session, context.productId),
  });
  return started;
}
