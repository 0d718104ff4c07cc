import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';

/** NOTIFY channel of usage changes; the payload lists the tenant ids whose totals changed. */
export const USAGE_CHANNEL = 'landlord_usage';
// A NOTIFY payload is at most 8,000 bytes: 36-byte ids, comma separated.
const IDS_PER_NOTIFY = 200;

/** What a crossing or a clearing event tells. */
export interface LimitEventFacts {
  tenant: { id: string; name: string };
  feature: string;
  threshold: number;
  limit: number;
  used: number;
  windowStart: string;
  windowEnd: string | null;
}

/**
 * Records `usage.limit_reached` (100 %) or `usage.threshold_reached` (any other
 * threshold); call it in the transaction that crossed it. Callers record crossings in
 * tenant order, so two transactions never take tenants' event counters in opposite orders.
 */
export async function recordCrossing(db: Db, productId: string, facts: LimitEventFacts, at: Date): Promise<void> {
  const type = facts.threshold === 100 ? 'usage.limit_reached' : 'usage.threshold_reached';
  await recordEvent(db, { type, productId, tenantId: facts.tenant.id, data: { ...facts }, occurredAt: at });
}

/** Records `usage.limit_cleared`: usage is below the limit again (`reason` says why). */
export async function recordCleared(db: Db, productId: string, facts: LimitEventFacts & { reason: string }, at: Date): Promise<void> {
  await recordEvent(db, { type: 'usage.limit_cleared', productId, tenantId: facts.tenant.id, data: { ...facts }, occurredAt: at });
}

/** Tells every node (at commit) that these tenants' usage changed, so cached entitlements go. */
export async function notifyUsageChange(db: Db, tenantIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(tenantIds)];
  const chunks: string[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) chunks.push(ids.slice(i, i + IDS_PER_NOTIFY).join(','));
  if (chunks.length === 0) return;
  await sql`select pg_notify(${USAGE_CHANNEL}, chunk) from unnest(${chunks}::text[]) as chunk`.execute(db);
}
