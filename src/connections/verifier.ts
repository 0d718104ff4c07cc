import { sql } from 'kysely';
import { generateCredential, hashSecret, isWellFormed, matchesHash } from '../access/credential-format.ts';
import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { EVENTS_CHANNEL } from '../events/events.repo.ts';
import { LIVE_STATUSES, type Status } from '../tenants/workflow.ts';

/** NOTIFY channel of connection changes; every node drops its cached connections on it. */
export const CONNECTIONS_CHANNEL = 'landlord_connections';
// A safety net only: changes reach every node at once through NOTIFY.
const CACHE_TTL_MS = 60_000;
// Unknown ids are cached too (so guessing costs no queries); the map is bounded all the same,
// in entries and in the size of the configurations it holds (up to 64 KiB each).
const MAX_CACHED = 20_000;
const MAX_CACHED_BYTES = 32 * 1024 * 1024;
const CONNECTION_ID = /^[0-9a-f]{32}$/;
// Compared against when the id is unknown, so that case costs the same as a wrong secret.
const UNKNOWN_HASH = hashSecret(generateCredential('llcn'));

/** Why a credential was refused. An unknown id and a wrong secret are the same answer. */
export type Refusal = 'unknown' | 'inactive' | 'tenant_not_live';

/** A credential that checked out: the connection, its tenant and what it may do. */
export interface VerifiedConnection {
  valid: true;
  connection: { id: string; name: string; type: string; configuration: Record<string, unknown> };
  tenant: { id: string; name: string; status: string };
  productId: string;
  permissions: string[];
}

/** The answer to "is this connection credential good?". */
export type Verification = VerifiedConnection | { valid: false; reason: Refusal };

/** Checks connection credentials (id + secret), from memory after the first look. */
export interface ConnectionVerifier {
  /** Verifies `id` + `secret`; a connection of a product other than `productId` (when given) is `unknown`. */
  verify(id: string, secret: string, productId: string | null): Promise<Verification>;
  /**
   * Drops this node's cache at once: for the node that committed a connection change, so
   * its next answer cannot come before the NOTIFY that tells the other nodes.
   */
  forgetAll(): void;
}

interface Row {
  id: string;
  name: string;
  type: string;
  active: boolean;
  configuration: Record<string, unknown>;
  permissions: string[];
  secret_hash: Buffer;
  product_id: string;
  tenant_id: string;
  tenant_name: string;
  tenant_status: string;
}

/**
 * The hot path of every request a product receives with a connection credential.
 * One indexed query per connection, then memory: any change to a connection
 * (`landlord_connections`) drops the whole cache on every node; an event about a
 * tenant — every tenant status change records one in its transaction, its NOTIFY
 * naming the tenant — drops that tenant's connections, so a deactivation or a tenant
 * leaving `active` takes effect at once without emptying the cache under a busy
 * lifecycle. The secret is compared in constant time.
 */
export async function createConnectionVerifier(deps: { db: Db; listener: Listener }): Promise<ConnectionVerifier> {
  const cache = new Map<string, { row: Row | null; expires: number; bytes: number }>();
  const byTenant = new Map<string, Set<string>>();
  let cachedBytes = 0;
  // Bumped by every invalidation: a lookup that raced with one must not cache what it read before it.
  let generation = 0;
  const clearAll = () => {
    generation++;
    cache.clear();
    byTenant.clear();
    cachedBytes = 0;
  };
  const forgetTenant = (tenantId: string | undefined) => {
    // No tenant named (an event about no tenant, or a gap in listening): anything may be stale.
    if (!tenantId) return clearAll();
    generation++;
    for (const id of byTenant.get(tenantId) ?? []) {
      cachedBytes -= cache.get(id)?.bytes ?? 0;
      cache.delete(id);
    }
    byTenant.delete(tenantId);
  };
  await deps.listener.on(CONNECTIONS_CHANNEL, clearAll);
  await deps.listener.on(EVENTS_CHANNEL, forgetTenant);

  async function lookup(id: string): Promise<Row | null> {
    const hit = cache.get(id);
    if (hit && hit.expires > Date.now()) return hit.row;
    const readAt = generation;
    const row =
      (await deps.db
        .selectFrom('connections')
        .innerJoin('tenants', 'tenants.id', 'connections.tenant_id')
        .select([
          'connections.id',
          'connections.name',
          'connections.type',
          'connections.active',
          'connections.configuration',
          'connections.permissions',
          'connections.secret_hash',
          'connections.product_id',
          'tenants.id as tenant_id',
          'tenants.name as tenant_name',
          'tenants.status as tenant_status',
        ])
        .where('connections.id', '=', id)
        .executeTakeFirst()) ?? null;
    if (readAt === generation) {
      const bytes = 256 + (row ? JSON.stringify(row.configuration).length : 0);
      cachedBytes -= cache.get(id)?.bytes ?? 0;
      if (cache.size >= MAX_CACHED || cachedBytes + bytes > MAX_CACHED_BYTES) clearAll();
      cache.set(id, { row, expires: Date.now() + CACHE_TTL_MS, bytes });
      cachedBytes += bytes;
      if (row) byTenant.set(row.tenant_id, (byTenant.get(row.tenant_id) ?? new Set()).add(id));
    }
    return row;
  }

  return {
    forgetAll: clearAll,
    async verify(rawId, secret, productId) {
      const id = rawId.toLowerCase();
      // A secret without a valid checksum cannot be one Landlord issued: no need to look.
      const row = CONNECTION_ID.test(id) && isWellFormed(secret, 'llcn') ? await lookup(id) : null;
      const matches = matchesHash(secret, row?.secret_hash ?? UNKNOWN_HASH);
      if (!row || !matches || (productId !== null && row.product_id !== productId)) return { valid: false, reason: 'unknown' };
      if (!row.active) return { valid: false, reason: 'inactive' };
      if (!LIVE_STATUSES.includes(row.tenant_status as Status)) return { valid: false, reason: 'tenant_not_live' };
      return {
        valid: true,
        connection: { id: row.id, name: row.name, type: row.type, configuration: row.configuration },
        tenant: { id: row.tenant_id, name: row.tenant_name, status: row.tenant_status },
        productId: row.product_id,
        permissions: row.permissions,
      };
    },
  };
}

/** Tells every node to drop cached connections; call inside the transaction that changes one. */
export async function notifyConnectionChange(db: Db): Promise<void> {
  await sql`select pg_notify(${CONNECTIONS_CHANNEL}, '')`.execute(db);
}
