import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { computeEntitlements } from './entitlements.service.ts';
import { notifyUsageChange, recordCleared, recordCrossing } from './usage-events.ts';

const BATCH = 100;
// A crossing still standing is looked at again this often (an upgrade or a reset clears it).
const RECHECK_MS = 15_000;

/** One window's usage against one plan feature's thresholds. */
export interface WindowUsage {
  productId: string;
  tenant: { id: string; name: string };
  featureId: string;
  featureName: string;
  windowStart: Date;
  windowEnd: Date | null;
  used: number;
  limit: number | null;
  thresholds: readonly number[];
}

/**
 * Brings a window's crossings in line with its usage now (after an operator's correction):
 * thresholds newly reached are crossed (once: the key is per window and threshold), those
 * left behind are cleared; leaving the 100 % threshold emits `usage.limit_cleared`.
 */
export async function reconcileCrossings(db: Db, usage: WindowUsage, times: { now: Date; realNow: Date }, reason: string): Promise<void> {
  // `now` is the product's commerce clock (events, windows); `realNow` dates the check the sweep schedules by.
  const { now, realNow } = times;
  const reached =
    usage.limit === null || usage.used <= 0 ? [] : usage.thresholds.filter((t) => usage.used * 100 >= (usage.limit as number) * t);
  const facts = (threshold: number) => ({
    tenant: usage.tenant,
    feature: usage.featureName,
    threshold,
    limit: usage.limit ?? 0,
    used: usage.used,
    windowStart: usage.windowStart.toISOString(),
    windowEnd: usage.windowEnd?.toISOString() ?? null,
  });
  const key = sql`tenant_id = ${usage.tenant.id}::uuid and feature_id = ${usage.featureId}::uuid and window_start = ${usage.windowStart}::timestamptz`;
  const cleared = await sql<{ threshold: number }>`
    update usage_crossings set cleared_at = ${now}::timestamptz
    where ${key} and cleared_at is null and not (threshold = any(${reached}::int[]))
    returning threshold`.execute(db);
  if (cleared.rows.some((row) => row.threshold === 100)) await recordCleared(db, usage.productId, { ...facts(100), reason }, now);
  const open = usage.windowEnd === null || usage.windowEnd.getTime() > now.getTime();
  if (!open || reached.length === 0) return;
  const crossed = await sql<{ threshold: number }>`
    insert into usage_crossings as c (tenant_id, feature_id, window_start, threshold, product_id, window_end, crossed_at, checked_at)
    select ${usage.tenant.id}::uuid, ${usage.featureId}::uuid, ${usage.windowStart}::timestamptz, th, ${usage.productId}::uuid,
      ${usage.windowEnd}::timestamptz, ${now}::timestamptz, ${realNow}::timestamptz
    from unnest(${reached}::int[]) as th order by th
    on conflict (tenant_id, feature_id, window_start, threshold) do update
      set crossed_at = excluded.crossed_at, checked_at = excluded.checked_at, cleared_at = null where c.cleared_at is not null
    returning threshold`.execute(db);
  for (const { threshold } of crossed.rows) await recordCrossing(db, usage.productId, facts(threshold), now);
}

/**
 * One pass of the limit sweep: the crossings still standing that were least recently
 * looked at (claimed `FOR UPDATE SKIP LOCKED`), each asked whether the tenant is still
 * past it now — not when its window ended (a new window), the plan changed (an upgrade,
 * a reset) or the limit moved. Those that no longer hold are cleared, and leaving the
 * limit emits `usage.limit_cleared`, all in one transaction per tenant.
 */
export async function sweepLimits(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  // Window ends are compared with each product's commerce clock (a sandbox product's runs ahead).
  const due = await sql<{ tenant_id: string }>`
    select distinct tenant_id from (
      select c.tenant_id from usage_crossings c left join product_billing b on b.product_id = c.product_id
      where c.cleared_at is null and (c.checked_at <= ${new Date(now.getTime() - RECHECK_MS)}::timestamptz
        or c.window_end <= ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond')
      order by c.checked_at limit ${BATCH}
    ) as due`.execute(deps.db);
  let handled = 0;
  for (const { tenant_id } of due.rows) if (await reconcileTenant(deps, tenant_id)) handled++;
  return handled;
}

/** Reconciles one tenant's standing crossings; false when another node holds them. */
async function reconcileTenant(deps: { db: Db; clock: Clock }, tenantId: string): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const open = await sql<{
      feature_id: string;
      feature_name: string;
      window_start: Date;
      window_end: Date | null;
      threshold: number;
      product_id: string;
    }>`
      select c.feature_id, f.name as feature_name, c.window_start, c.window_end, c.threshold, c.product_id
      from usage_crossings c join features f on f.id = c.feature_id
      where c.tenant_id = ${tenantId}::uuid and c.cleared_at is null
      order by c.feature_id, c.window_start, c.threshold
      for update of c skip locked`.execute(tx);
    if (open.rows.length === 0) return false;
    const entitlements = await computeEntitlements(tx, deps.clock, tenantId);
    const now = entitlements?.now ?? deps.clock.now();
    const clear: { feature_id: string; window_start: Date; threshold: number }[] = [];
    for (const row of open.rows) {
      const current = entitlements?.view.features.find((feature) => feature.feature === row.feature_name);
      const sameWindow = current?.windowStart !== undefined && current.windowStart === row.window_start.toISOString();
      const stillPast =
        sameWindow &&
        current?.limit !== null &&
        current !== undefined &&
        current.used > 0 &&
        current.used * 100 >= (current.limit as number) * row.threshold;
      if (stillPast) continue;
      clear.push(row);
      if (row.threshold !== 100) continue;
      const reason = !sameWindow
        ? row.window_end && row.window_end.getTime() <= now.getTime()
          ? 'new_window'
          : 'plan_changed'
        : 'limit_raised';
      await recordCleared(
        tx,
        row.product_id,
        {
          tenant: { id: tenantId, name: entitlements?.view.tenant.name ?? '' },
          feature: row.feature_name,
          threshold: 100,
          limit: current?.limit ?? 0,
          used: sameWindow ? (current?.used ?? 0) : 0,
          windowStart: row.window_start.toISOString(),
          windowEnd: row.window_end?.toISOString() ?? null,
          reason,
        },
        now,
      );
    }
    await sql`
      update usage_crossings c set checked_at = ${deps.clock.now()}::timestamptz,
        cleared_at = case when k.feature_id is null then null else ${now}::timestamptz end
      from (select * from usage_crossings where tenant_id = ${tenantId}::uuid and cleared_at is null) o
      left join unnest(${clear.map((row) => row.feature_id)}::uuid[], ${clear.map((row) => row.window_start.toISOString())}::timestamptz[],
        ${clear.map((row) => row.threshold)}::int[]) as k(feature_id, window_start, threshold)
        on k.feature_id = o.feature_id and k.window_start = o.window_start and k.threshold = o.threshold
      where c.tenant_id = o.tenant_id and c.feature_id = o.feature_id and c.window_start = o.window_start and c.threshold = o.threshold`.execute(
      tx,
    );
    if (clear.length) await notifyUsageChange(tx, [tenantId]);
    return true;
  });
}

/** The sweep that clears limits a tenant has left (registered in `buildSweeps`). */
export function usageLimitSweep(deps: { db: Db; clock: Clock; intervalMs?: number }): Sweep {
  return { name: 'usage-limits', intervalMs: deps.intervalMs ?? 5_000, batchSize: BATCH, sweepOnce: () => sweepLimits(deps) };
}
