import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { loadPlanFeatures, loadSpans, loadUsageProduct, spanAt } from './usage-context.ts';
import { notifyUsageChange } from './usage-events.ts';
import { windowAt } from './windows.ts';

/**
 * Brings the tenant's stored windows that are not settled in line with its plan history
 * after the history changed (ADR 0010): a confirmed `reset` ends the windows it falls in
 * there; a new anchor (a change of cycle, a trial's end moved) ends the week/month/year
 * windows counted from the old one where the new one begins. Each stored total (and its
 * crossings) keeps its start — usage already counted never moves to another window — and
 * takes the end derived now, so the limit sweep clears a limit reached in a window that
 * ended, and overage settles the cut window like any ended one. Runs in the transaction
 * that changed the history (the subscription row and `subscription_changes` as written
 * there); every node's entitlements cache forgets the tenant at commit.
 */
export async function realignStoredWindows(db: Db, clock: Clock, productId: string, tenantId: string): Promise<void> {
  const totals = await sql<{ feature_id: string; window_start: Date; window_end: Date | null }>`
    select feature_id, window_start, window_end from usage_totals
    where tenant_id = ${tenantId}::uuid and settled_at is null`.execute(db);
  if (totals.rows.length > 0) {
    const product = await loadUsageProduct(db, clock, productId);
    const spans = (await loadSpans(db, [tenantId])).get(tenantId) ?? [];
    const features = await loadPlanFeatures(
      db,
      spans.map((span) => span.planId),
    );
    const moved: { featureId: string; start: Date; end: Date | null }[] = [];
    for (const total of totals.rows) {
      const span = spanAt(spans, total.window_start);
      const metered = span && features.get(span.planId)?.get(total.feature_id);
      if (!span || !metered) continue;
      const window = windowAt(metered.reset, product.zone, span, total.window_start);
      // A total that this derivation does not start there (another plan's reset period) is left as it is.
      if (window.start.getTime() !== total.window_start.getTime()) continue;
      if ((window.end?.getTime() ?? null) === (total.window_end?.getTime() ?? null)) continue;
      moved.push({ featureId: total.feature_id, start: total.window_start, end: window.end });
    }
    if (moved.length > 0) {
      const keys = sql`unnest(${moved.map((m) => m.featureId)}::uuid[], ${moved.map((m) => m.start.toISOString())}::timestamptz[],
        ${moved.map((m) => m.end?.toISOString() ?? null)}::timestamptz[]) as k(feature_id, window_start, window_end)`;
      await sql`update usage_totals t set window_end = k.window_end from ${keys}
        where t.tenant_id = ${tenantId}::uuid and t.feature_id = k.feature_id and t.window_start = k.window_start`.execute(db);
      await sql`update usage_crossings c set window_end = k.window_end from ${keys}
        where c.tenant_id = ${tenantId}::uuid and c.feature_id = k.feature_id and c.window_start = k.window_start`.execute(db);
    }
  }
  await notifyUsageChange(db, [tenantId]);
}
