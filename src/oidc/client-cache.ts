import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { findOidcClientByClientId, type OidcClientRecord } from './oidc-clients.repo.ts';

/** Where a revoked client is announced (its `client_id`; empty: forget every client). */
export const OIDC_CLIENTS_CHANNEL = 'landlord_oidc_clients';

// A safety net only: a revocation reaches every node at once through NOTIFY.
const CACHE_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

/** The node's OIDC clients, from memory after the first look; the database is the truth. */
export interface OidcClientCache {
  /** A client by `client_id`, unless revoked. */
  find(clientId: string): Promise<OidcClientRecord | undefined>;
}

/** Announces, in the caller's transaction, that a client (or, without one, every client) changed. */
export async function announceOidcClientChange(db: Db, clientId = ''): Promise<void> {
  await sql`select pg_notify(${OIDC_CLIENTS_CHANNEL}, ${clientId})`.execute(db);
}

/**
 * Every token and userinfo request reads its client, and clients almost never change:
 * they are kept in memory until a revocation's NOTIFY (sent in the revoking transaction)
 * drops them. Unknown ids are not remembered, so a new client works at once. A read that
 * raced with an invalidation is answered but not kept. A deleted product's clients may
 * linger for the TTL, harmlessly: a product is deleted only without live tenants, so
 * nobody can sign in to it or be given a tenant claim by then.
 */
export async function createOidcClientCache(
  db: Db,
  listener: Listener,
  now: () => number = performance.now.bind(performance),
): Promise<OidcClientCache> {
  const cache = new Map<string, { client: OidcClientRecord; expires: number }>();
  let invalidations = 0;
  await listener.on(OIDC_CLIENTS_CHANNEL, (clientId) => {
    invalidations++;
    if (clientId) cache.delete(clientId);
    else cache.clear();
  });
  return {
    async find(clientId) {
      const hit = cache.get(clientId);
      if (hit && hit.expires > now()) return hit.client;
      const before = invalidations;
      const client = await findOidcClientByClientId(db, clientId);
      if (!client) cache.delete(clientId);
      else if (before === invalidations) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(clientId, { client, expires: now() + CACHE_TTL_MS });
      }
      return client;
    },
  };
}
