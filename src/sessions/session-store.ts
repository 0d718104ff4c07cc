import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { generateCredential, hashSecret, isWellFormed } from '../access/credential-format.ts';
import type { Db } from '../db/database.ts';
import { type CookiePolicy, clearCookie, readCookie, setCookie } from '../http/cookies.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';

/**
 * Cookie sessions, whoever signs in: tenant users (kind `user`, `SameSite=Lax` so a
 * relying party's redirect back carries it) and console operators (kind `operator`,
 * `SameSite=Strict`). The cookie holds a secret token; the table keeps its SHA-256.
 */
export interface SessionPolicy {
  kind: 'user' | 'operator';
  cookie: CookiePolicy;
  /** A session unused this long ends. */
  idleSeconds: number;
  /** A session ends this long after sign-in, however busy. */
  absoluteSeconds: number;
}

/** A live session as the code sees it. */
export interface Session {
  id: string;
  kind: 'user' | 'operator';
  subjectId: string;
  /** The tenant (membership id) chosen per product id. */
  tenants: Record<string, string>;
  method: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

// Sliding the idle expiry costs a write; once a minute per session is plenty.
const TOUCH_AFTER_MS = 60_000;

type SessionRow = {
  id: string;
  kind: 'user' | 'operator';
  subject_id: string;
  tenants: Record<string, string>;
  method: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
};

const COLUMNS = [
  'id',
  'kind',
  'subject_id',
  'tenants',
  'method',
  'ip',
  'user_agent',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
] as const;

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    kind: row.kind,
    subjectId: row.subject_id,
    tenants: row.tenants ?? {},
    method: row.method,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

/** Starts a session for `subjectId`; returns it and the token for the cookie (shown nowhere else). */
export async function startSession(
  db: Db,
  clock: Clock,
  policy: SessionPolicy,
  start: { subjectId: string; method: string; ip?: string; userAgent?: string; tenants?: Record<string, string> },
): Promise<{ session: Session; token: string }> {
  const token = generateCredential('llss');
  const now = clock.now();
  const row = await db
    .insertInto('sessions')
    .values({
      id: newId(),
      kind: policy.kind,
      subject_id: start.subjectId,
      token_hash: hashSecret(token),
      tenants: JSON.stringify(start.tenants ?? {}),
      method: start.method,
      ip: start.ip ?? null,
      user_agent: start.userAgent?.slice(0, 500) ?? null,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: new Date(now.getTime() + policy.idleSeconds * 1000),
      absolute_expires_at: new Date(now.getTime() + policy.absoluteSeconds * 1000),
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return { session: toSession(row), token };
}

/**
 * The live session a token opens, or undefined (unknown, revoked, idle too long, past its
 * absolute end). Using a session slides its idle expiry (at most once a minute).
 */
export async function findSession(db: Db, clock: Clock, policy: SessionPolicy, token: string | undefined): Promise<Session | undefined> {
  if (!token || !isWellFormed(token, 'llss')) return undefined;
  const now = clock.now();
  const row = await db
    .selectFrom('sessions')
    .select(COLUMNS)
    .where('token_hash', '=', hashSecret(token))
    .where('kind', '=', policy.kind)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('absolute_expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return undefined;
  const session = toSession(row);
  if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_AFTER_MS) {
    const idle = new Date(Math.min(now.getTime() + policy.idleSeconds * 1000, session.absoluteExpiresAt.getTime()));
    await db.updateTable('sessions').set({ last_seen_at: now, idle_expires_at: idle }).where('id', '=', session.id).execute();
    session.lastSeenAt = now;
    session.idleExpiresAt = idle;
  }
  return session;
}

/** True when the session with this (public) id is live now: what a channel checks. */
export async function isSessionLive(db: Db, clock: Clock, sessionId: string): Promise<boolean> {
  const now = clock.now();
  const row = await db
    .selectFrom('sessions')
    .select('id')
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('absolute_expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

/** A session by id, whether live or not (for revocation and lists). */
export async function findSessionById(db: Db, id: string) {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Ends a session now; true when it was live. */
export async function revokeSession(db: Db, clock: Clock, id: string, reason: string): Promise<boolean> {
  const revoked = await db
    .updateTable('sessions')
    .set({ revoked_at: clock.now(), revoked_reason: reason })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(revoked.numUpdatedRows) > 0;
}

/** Ends every live session of a subject (a password change), except `keepId`; returns the ids ended. */
export async function revokeSubjectSessions(
  db: Db,
  clock: Clock,
  kind: Session['kind'],
  subjectId: string,
  reason: string,
  keepId?: string,
): Promise<string[]> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: clock.now(), revoked_reason: reason })
    .where('kind', '=', kind)
    .where('subject_id', '=', subjectId)
    .where('revoked_at', 'is', null);
  if (keepId) query = query.where('id', '!=', keepId);
  const rows = await query.returning('id').execute();
  return rows.map((row) => row.id);
}

/** A subject's live sessions, newest first. */
export async function listLiveSessions(db: Db, clock: Clock, kind: Session['kind'], subjectId: string): Promise<Session[]> {
  const now = clock.now();
  const rows = await db
    .selectFrom('sessions')
    .select(COLUMNS)
    .where('kind', '=', kind)
    .where('subject_id', '=', subjectId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('absolute_expires_at', '>', now)
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
  return rows.map(toSession);
}

/** Remembers the tenant (membership) the session chose for a product. */
export async function chooseSessionTenant(db: Db, sessionId: string, productId: string, membershipId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ tenants: sql`tenants || jsonb_build_object(${productId}::text, ${membershipId}::text)` })
    .where('id', '=', sessionId)
    .execute();
}

/** The session of the request's cookie, if live. */
export async function sessionOfRequest(db: Db, clock: Clock, policy: SessionPolicy, request: FastifyRequest): Promise<Session | undefined> {
  return findSession(db, clock, policy, readCookie(request, policy.cookie.name));
}

/** The request's session token (the cookie), for CSRF tokens bound to it. */
export function sessionTokenOf(policy: SessionPolicy, request: FastifyRequest): string | undefined {
  return readCookie(request, policy.cookie.name);
}

/** Sets the session cookie; it lives no longer than the session's absolute end. */
export function setSessionCookie(reply: FastifyReply, policy: SessionPolicy, token: string, session: Session): void {
  setCookie(reply, policy.cookie, token, session.absoluteExpiresAt);
}

/** Clears the session cookie. */
export function clearSessionCookie(reply: FastifyReply, policy: SessionPolicy): void {
  clearCookie(reply, policy.cookie);
}
