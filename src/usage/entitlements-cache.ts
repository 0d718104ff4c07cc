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
  // Bumped by every invalidation: a computation that raced with one must not cache what it read before it.
  let generation = 0;
  const clearAll = () => {
    generation++;
    cache.clear();
    refsOfTenant.clear();
  };
  const forget = (tenantIds: readonly string[]) => {
    generation++;
    for (const id of tenantIds) {
      for (const ref of refsOfTenant.get(id) ?? []) cache.delete(ref);
      refsOfTenant.delete(id);
    }
  };
  await deps.listener.on(USAGE_CHANNEL, (payload) => (payload ? forget(payload.split(',')) : clearAll()));
  await deps.listener.on(EVENTS_CHANNEL, (payload) => (payload ? forget([payload]) : clearAll()));

  return {
    forget,
    async get(tenantRef) {
      const ref = /^[0-9a-f-]{36}$/i.test(tenantRef) ? tenantRef.toLowerCase() : tenantRef;
      const now = Date.now();
      const hit = cache.get(ref);
      if (hit && hit.expires > now && (hit.value === undefined || hit.value.validUntil > deps.clock.now().getTime())) return hit.value;
      const readAt = generation;
      const value = await computeEntitlements(deps.db, deps.clock, ref);
      // Unknown tenants are not cached: a tenant created a moment later records no event that names it beforehand.
      if (readAt === generation && value?.cacheable) {
        if (cache.size >= MAX_CACHED) clearAll();
        cache.set(ref, { value, expires: now + CACHE_TTL_MS });
        const tenantId = value.view.tenant.id;
        refsOfTenant.set(tenantId, (refsOfTenant.get(tenantId) ?? new Set()).add(ref));
      }
      return value;
    },
  };
}
