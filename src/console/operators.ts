import { createHash } from 'node:crypto';
import type { Authenticator } from '../access/authenticator.ts';
import { generateCredential, hashSecret, isWellFormed } from '../access/credential-format.ts';
import type { Principal } from '../access/principal.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/database.ts';
import { secureCookiesFor } from '../http/cookies.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { SessionPolicy } from '../sessions/session-store.ts';

/** How long a console link printed by `landlord console link` can be opened: 5 minutes, once. */
export const CONSOLE_LINK_SECONDS = 5 * 60;

/** The console's cookie session: `SameSite=Strict`, only sent to `/console`, idle expiry of its own. */
export function consoleSessionPolicy(config: Config): SessionPolicy {
  return {
    kind: 'operator',
    cookie: { name: 'landlord_console', sameSite: 'strict', secure: secureCookiesFor(config.publicUrl), path: '/console' },
    idleSeconds: config.consoleIdleMinutes * 60,
    absoluteSeconds: config.sessionMaxHours * 3600,
  };
}

/**
 * Whom an operator session acts as, kept in `sessions.subject_id`:
 * `key:<api key id>` (an operator key pasted once), `admin:<fingerprint>` (LANDLORD_ADMIN_KEY,
 * while it is still the configured one) or `root` (a console link from the command line,
 * which has the database in hand and so the powers of a super admin).
 */
export type OperatorSubject = string;

/** The principal behind a pasted credential, or undefined for anything that is not an operator key. */
export async function subjectOfKey(
  authenticator: Authenticator,
  key: string,
): Promise<{ subject: OperatorSubject; principal: Principal } | undefined> {
  let principal: Principal;
  try {
    principal = await authenticator.authenticate(`Bearer ${key.trim()}`);
  } catch {
    return undefined;
  }
  if (principal.kind === 'admin_key') return { subject: `admin:${fingerprint(key.trim())}`, principal };
  if (principal.kind === 'api_key') return { subject: `key:${principal.id}`, principal };
  // Client tokens, resellers and connections are not operators.
  return undefined;
}

/** The principal an operator session acts as now, or undefined when its key was revoked (or the admin key changed). */
export async function principalOfSubject(db: Db, config: Config, subject: OperatorSubject): Promise<Principal | undefined> {
  if (subject === 'root') return { kind: 'admin_key', id: 'console-link', role: 'super_admin', productId: null, name: 'console link' };
  if (subject.startsWith('admin:')) {
    if (!config.adminKey || subject !== `admin:${fingerprint(config.adminKey)}`) return undefined;
    return { kind: 'admin_key', id: 'admin-key', role: 'super_admin', productId: null, name: 'LANDLORD_ADMIN_KEY' };
  }
  const keyId = subject.startsWith('key:') ? subject.slice(4) : undefined;
  if (!keyId) return undefined;
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'product_id'])
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { kind: 'api_key', id: row.id, role: row.role, productId: row.product_id, name: row.name } : undefined;
}

/** Creates a one-time console link secret for `subject` (`root` or `key:<id>`); only its hash is stored. */
export async function createConsoleLink(db: Db, clock: Clock, subject: OperatorSubject): Promise<{ token: string; expiresAt: Date }> {
  const token = generateCredential('llcl');
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + CONSOLE_LINK_SECONDS * 1000);
  await db
    .insertInto('console_links')
    .values({ id: newId(), token_hash: hashSecret(token), subject_id: subject, created_at: now, expires_at: expiresAt })
    .execute();
  return { token, expiresAt };
}

/**
 * Uses a console link: marks it used in the one statement that checks it is unused and
 * unexpired, so two browsers opening the same link cannot both get in. Returns its subject.
 */
export async function redeemConsoleLink(db: Db, clock: Clock, token: string): Promise<OperatorSubject | undefined> {
  if (!isWellFormed(token, 'llcl')) return undefined;
  const now = clock.now();
  const row = await db
    .updateTable('console_links')
    .set({ used_at: now })
    .where('token_hash', '=', hashSecret(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('subject_id')
    .executeTakeFirst();
  return row?.subject_id;
}

// A short fingerprint of the admin key: a session survives a restart with the same key, not a change of key.
function fingerprint(key: string): string {
  return createHash('sha256').update(`console:${key}`).digest('base64url').slice(0, 16);
}
