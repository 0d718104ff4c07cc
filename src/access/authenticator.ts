import { hash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';
import type { KeyRing } from '../platform/signing-keys.ts';
import { isWellFormed, lookupOf, matchesHash } from './credential-format.ts';
import type { Principal } from './principal.ts';

/** The audience of the access tokens clients get from `/v1/auth/token`. */
export const API_AUDIENCE = 'landlord-api';
const CHANNEL = 'landlord_auth';
// A safety net only: revocations reach every node at once through NOTIFY.
const CACHE_TTL_MS = 60_000;
const TOUCH_FLUSH_MS = 10_000;

/** Resolves the `Authorization` header of a request to a {@link Principal}. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Drops every cached credential (called when any credential changes). */
  invalidate(): void;
  close(): Promise<void>;
}

interface Cached<T> {
  value: T;
  expires: number;
}

interface ClientState {
  principal: Principal;
  secretExpiresAt: Date | null;
  revoked: boolean;
}

/**
 * Credentials are checked against the database once and then served from memory;
 * every change to a credential sends a NOTIFY on `landlord_auth` in its transaction,
 * and every node that hears it drops its cache, so revocation takes effect at once.
 * `last_used_at` is written in batches every 10 s rather than on every request.
 */
export async function createAuthenticator(deps: {
  db: Db;
  listener: Listener;
  keyRing: KeyRing;
  adminKey: string | undefined;
  clock: Clock;
  onError: (error: unknown) => void;
}): Promise<Authenticator> {
  const { db, keyRing, clock } = deps;
  const apiKeys = new Map<string, Cached<Principal | null>>();
  const clients = new Map<string, Cached<ClientState | null>>();
  const adminHash = deps.adminKey ? sha256(deps.adminKey) : undefined;
  const touchedKeys = new Set<string>();
  const touchedClients = new Set<string>();

  // Bumped by every invalidation: a lookup that raced with one must not cache what it read before it.
  let generation = 0;
  // Verified access tokens, by hash: an Ed25519 verification costs far more than the
  // lookup, and a token is presented many times. Expiry is still checked on every use.
  const verifiedTokens = new Map<string, { clientRowId: string; expiresAtMs: number }>();
  const MAX_VERIFIED_TOKENS = 50_000;

  const invalidate = () => {
    generation++;
    apiKeys.clear();
    clients.clear();
    verifiedTokens.clear();
  };
  await deps.listener.on(CHANNEL, invalidate);

  const flush = async () => {
    const keys = [...touchedKeys];
    const clientIds = [...touchedClients];
    touchedKeys.clear();
    touchedClients.clear();
    const now = clock.now();
    if (keys.length) await db.updateTable('api_keys').set({ last_used_at: now }).where('id', 'in', keys).execute();
    if (clientIds.length) await db.updateTable('clients').set({ last_used_at: now }).where('id', 'in', clientIds).execute();
  };
  const timer = setInterval(() => flush().catch(deps.onError), TOUCH_FLUSH_MS);
  timer.unref();

  async function apiKeyPrincipal(token: string, cacheKey: string): Promise<Principal | null> {
    const hit = apiKeys.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.value;
    const readAt = generation;
    const row = await db
      .selectFrom('api_keys')
      .select(['id', 'name', 'role', 'product_id', 'secret_hash', 'revoked_at'])
      .where('lookup', '=', lookupOf(token))
      .executeTakeFirst();
    const value =
      row && row.revoked_at === null && matchesHash(token, row.secret_hash)
        ? { kind: 'api_key' as const, id: row.id, role: row.role, productId: row.product_id, name: row.name }
        : null;
    if (readAt === generation) apiKeys.set(cacheKey, { value, expires: Date.now() + CACHE_TTL_MS });
    return value;
  }

  async function verifiedClientOf(token: string, cacheKey: string): Promise<string> {
    const hit = verifiedTokens.get(cacheKey);
    if (hit) {
      if (hit.expiresAtMs > clock.now().getTime()) return hit.clientRowId;
      verifiedTokens.delete(cacheKey);
    }
    let clientRowId: string;
    let expiresAtMs: number;
    try {
      const claims = await keyRing.verify(token, API_AUDIENCE);
      clientRowId = String(claims.cid ?? '');
      expiresAtMs = (claims.exp ?? 0) * 1000;
    } catch {
      throw new AppError('auth.invalid_credential');
    }
    if (!isUuid(clientRowId)) throw new AppError('auth.invalid_credential');
    if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.clear();
    verifiedTokens.set(cacheKey, { clientRowId, expiresAtMs });
    return clientRowId;
  }

  async function clientState(id: string): Promise<ClientState | null> {
    const hit = clients.get(id);
    if (hit && hit.expires > Date.now()) return hit.value;
    const readAt = generation;
    const row = await db
      .selectFrom('clients')
      .select(['id', 'client_id', 'name', 'product_id', 'secret_expires_at', 'revoked_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    const value = row
      ? {
          principal: { kind: 'client' as const, id: row.id, role: 'client' as const, productId: row.product_id, name: row.name },
          secretExpiresAt: row.secret_expires_at,
          revoked: row.revoked_at !== null,
        }
      : null;
    if (readAt === generation) clients.set(id, { value, expires: Date.now() + CACHE_TTL_MS });
    return value;
  }

  return {
    async authenticate(authorization) {
      const token = bearer(authorization);
      // One hash per request: the admin key's comparison and the caches' key.
      const digest = sha256(token);
      if (adminHash && timingSafeEqual(digest, adminHash)) {
        return { kind: 'admin_key', id: 'admin-key', role: 'super_admin', productId: null, name: 'LANDLORD_ADMIN_KEY' };
      }
      if (token.startsWith('ll_')) {
        const principal = isWellFormed(token, 'll') ? await apiKeyPrincipal(token, digest.toString('base64')) : null;
        if (!principal) throw new AppError('auth.invalid_credential');
        touchedKeys.add(principal.id);
        return principal;
      }
      const clientRowId = await verifiedClientOf(token, digest.toString('base64'));
      const state = await clientState(clientRowId);
      // Revoking a client revokes the tokens it was given, even unexpired ones.
      if (!state || state.revoked) throw new AppError('auth.invalid_credential');
      touchedClients.add(state.principal.id);
      return state.principal;
    },
    invalidate,
    async close() {
      clearInterval(timer);
      await flush().catch(deps.onError);
    },
  };
}

/** Tells every node to drop cached credentials; call inside the transaction that changes one. */
export async function notifyCredentialChange(db: Db): Promise<void> {
  await sql`select pg_notify(${CHANNEL}, '')`.execute(db);
}

function bearer(authorization: string | undefined): string {
  if (!authorization) throw new AppError('auth.missing_credential');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new AppError('auth.missing_credential', { message: 'The Authorization header must be "Bearer <key or token>"' });
  return match[1];
}

// One-shot hashing: no Hash object per request (a credential is hashed on every request, as its cache key).
function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}
