import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { EVENTS_CHANNEL } from '../events/events.repo.ts';
import type { Clock } from '../platform/clock.ts';
import { computeEntitlements, type TenantEntitlements } from './entitlements.service.ts';
import { USAGE_CHANNEL } from './usage-events.ts';

// A safety net only: every change reaches every node at once through NOTIFY.
const CACHE_TTL_MS = 60_000;
const MAX_CACHED = 50_000;

/** Entitlements from memory after the first look, the database being the truth. */
export interface EntitlementsCache {
  /** The tenant's entitlements (by id or name); undefined when there is no such tenant. */
  get(tenantRef: string): Promise<TenantEntitlements | undefined>;
  /** Drops these tenants at once on this node (the node that committed a change; others hear the NOTIFY). */
  forget(tenantIds: readonly string[]): void;
}

/**
 * The entitlements cache of one node, modelled on the connection verifier: one
 * computation per tenant, then memory until something changes. What can change an
 * answer reaches every node through NOTIFY: usage totals (`landlord_usage`, naming the
 * tenants), and every change to a tenant, its subscription, a plan or a feature (each
 * records an event in its transaction; `landlord_events` names the tenant, or none for a
 * catalogue change, which drops everything). Time ends an entry too: at the end of its
 * first window, or after a minute at most. A sandbox product's answers are never cached.
 */
export async function createEntitlementsCache(deps: { db: Db; clock: Clock; listener: Listener }): Promise<EntitlementsCache> {
  const cache = new Map<string, { value: TenantEntitlements | undefined; expires: number }>();
  const refsOfTenant = new Map<string, Set<string>>();
  // Invalidations are numbered. A computation that raced with one about its tenant (or with a
  // clear of everything) must not cache what it read before it; one about another tenant does
  // not matter, so a busy node still caches.
  let sequence = 0;
  let clearedAt = 0;
  const forgottenAt = new Map<string, number>();
  const clearAll = () => {
    clearedAt = ++sequence;
    cache.clear();
    refsOfTenant.clear();
    forgottenAt.clear();
  };
  const forget = (tenantIds: readonly string[]) => {
    if (forgottenAt.size > MAX_CACHED) return clearAll();
    sequence++;
    for (const id of tenantIds) {
      forgottenAt.set(id, sequence);
      for (const ref of refsOfTenant.get(id) ?? []) cache.delete(ref);
      refsOfTenant.delete(id);
    }
  };
  const staleSince = (readAt: number, tenantId: string) => clearedAt > readAt || (forgottenAt.get(tenantId) ?? 0) > readAt;
  await deps.listener.on(USAGE_CHANNEL, (payload) => (payload ? forget(payload.split(',')) : clearAll()));
  await deps.listener.on(EVENTS_CHANNEL, (payload) => (payload ? forget([payload]) : clearAll()));

  return {
    forget,
    async get(tenantRef) {
      const ref = /^[0-9a-f-]{36}$/i.test(tenantRef) ? tenantRef.toLowerCase() : tenantRef;
      const now = Date.now();
      const hit = cache.get(ref);
      if (hit && hit.expires > now && (hit.value === undefined || hit.value.validUntil > deps.clock.now().getTime())) return hit.value;
      const readAt = sequence;
      const value = await computeEntitlements(deps.db, deps.clock, ref);
      // Unknown tenants are not cached: a tenant created a moment later records no event that names it beforehand.
      if (value?.cacheable && !staleSince(readAt, value.view.tenant.id)) {
        if (cache.size >= MAX_CACHED) clearAll();
        cache.set(ref, { value, expires: now + CACHE_TTL_MS });
        const tenantId = value.view.tenant.id;
        refsOfTenant.set(tenantId, (refsOfTenant.get(tenantId) ?? new Set()).add(ref));
      }
      return value;
    },
  };
}
