import type { Db } from '../db/database.ts';
import { type BatchWritten, type EventRow, flagOverLimit, insertUsageBatch, neededTransaction, type TotalAfter } from './ingest.repo.ts';
import type { MeteredFeature } from './usage-context.ts';
import { recordCrossing } from './usage-events.ts';

/** What writing a batch needs besides its rows: where and when, and names for the crossing events. */
export interface BatchTarget {
  productId: string;
  /** The product's commerce clock (events, windows) and the real one (when the limit sweep looks again). */
  now: Date;
  realNow: Date;
}

/** What the batch was judged against (`resolveBatch`). */
export interface BatchNames {
  tenants: ReadonlyMap<string, { id: string; name: string }>;
  features: ReadonlyMap<string, { id: string }>;
  planFeatures: ReadonlyMap<string, ReadonlyMap<string, MeteredFeature>>;
}

// Windows whose usage reached a threshold share of a limit: their next batches may cross a threshold or pass the
// limit, so they go straight to a transaction. A hint only (per node, bounded): the statement itself refuses to
// commit alone when it needed more.
const MAX_HOT_WINDOWS = 10_000;
const hotWindows = new Set<string>();

/**
 * Stores the batch's rows. Usually that is the one batch statement, run on its own: atomic
 * without BEGIN and COMMIT (two round trips of four). When more must commit with it — the
 * events of thresholds it crossed, the `over_limit` flags of events past a limit — it runs
 * in a transaction with them: at once for a window known to be near its limit, or after the
 * statement run alone refused (it wrote nothing). On a transaction handle it runs in it.
 */
export async function writeBatch(db: Db, target: BatchTarget, rows: readonly EventRow[], names: BatchNames): Promise<BatchWritten> {
  const times = { now: target.now, realNow: target.realNow };
  if (!db.isTransaction && !rows.some((row) => hotWindows.has(windowKey(row.tenantId, row.featureId, row.windowStart)))) {
    try {
      const written = await insertUsageBatch(db, target.productId, times, rows, { alone: true });
      rememberHot(rows, written.totals, names);
      return written;
    } catch (error) {
      if (!neededTransaction(error)) throw error;
    }
  }
  const inTransaction = async (tx: Db) => {
    const written = await insertUsageBatch(tx, target.productId, times, rows, { alone: false });
    await flagEventsOverLimit(tx, target.productId, rows, new Set(written.inserted), written.totals, names);
    await recordCrossings(tx, target, written, names);
    rememberHot(rows, written.totals, names);
    return written;
  };
  return db.isTransaction ? inTransaction(db) : db.transaction().execute(inTransaction);
}

/** Records the events of the thresholds the batch crossed (in tenant order, as the statement returns them). */
async function recordCrossings(db: Db, target: BatchTarget, written: BatchWritten, names: BatchNames): Promise<void> {
  for (const crossing of written.crossed) {
    const tenant = [...names.tenants.values()].find((candidate) => candidate.id === crossing.tenant_id);
    const total = written.totals.find(
      (t) => t.tenant_id === crossing.tenant_id && t.feature_id === crossing.feature_id && t.window_start === crossing.window_start,
    );
    const featureName = [...names.features.entries()].find(([, feature]) => feature.id === crossing.feature_id)?.[0] ?? '';
    await recordCrossing(
      db,
      target.productId,
      {
        tenant: { id: crossing.tenant_id, name: tenant?.name ?? '' },
        feature: featureName,
        threshold: crossing.threshold,
        // The limit of the plan in force at the event that crossed it (a window can span a plan change).
        limit: Number(crossing.limit),
        used: total?.used ?? 0,
        windowStart: new Date(crossing.window_start).toISOString(),
        windowEnd: crossing.window_end ? new Date(crossing.window_end).toISOString() : null,
      },
      target.now,
    );
  }
}

/**
 * Flags the inserted events that took a window past its limit: the running total in storing
 * (producer-id) order, each event against the limit of the plan in force at its time.
 */
async function flagEventsOverLimit(
  db: Db,
  productId: string,
  rows: readonly EventRow[],
  inserted: ReadonlySet<string>,
  totals: readonly TotalAfter[],
  names: BatchNames,
): Promise<void> {
  const limits = limitsByPlanFeature(names);
  const byWindow = new Map<string, EventRow[]>();
  for (const row of rows) {
    if (!inserted.has(row.producerId)) continue;
    const key = windowKey(row.tenantId, row.featureId, row.windowStart);
    const list = byWindow.get(key);
    if (list) list.push(row);
    else byWindow.set(key, [row]);
  }
  const flagged: string[] = [];
  for (const total of totals) {
    const mine = (byWindow.get(windowKey(total.tenant_id, total.feature_id, new Date(total.window_start))) ?? []).sort((a, b) =>
      a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0,
    );
    // The total is read under the row's lock: what was there before this batch is exact.
    let running = total.used - mine.reduce((sum, row) => sum + row.quantity, 0);
    for (const row of mine) {
      running += row.quantity;
      const limit = limits.get(row.planFeatureId)?.limit ?? null;
      if (limit !== null && running > limit) flagged.push(row.producerId);
    }
  }
  await flagOverLimit(db, productId, flagged);
}

/** Marks the windows whose usage reached the lowest threshold share of a limit of their events' plan features. */
function rememberHot(rows: readonly EventRow[], totals: readonly TotalAfter[], names: BatchNames): void {
  if (totals.length === 0) return;
  const features = limitsByPlanFeature(names);
  const lowest = new Map<string, number>();
  for (const row of rows) {
    const feature = features.get(row.planFeatureId);
    if (!feature || feature.limit === null) continue;
    const share = (feature.limit * Math.min(...feature.thresholds, 100)) / 100;
    const key = windowKey(row.tenantId, row.featureId, row.windowStart);
    lowest.set(key, Math.min(lowest.get(key) ?? Number.POSITIVE_INFINITY, share));
  }
  for (const total of totals) {
    const key = windowKey(total.tenant_id, total.feature_id, new Date(total.window_start));
    const share = lowest.get(key);
    if (share === undefined || total.used < share) continue;
    if (hotWindows.size >= MAX_HOT_WINDOWS) hotWindows.clear();
    hotWindows.add(key);
  }
}

function limitsByPlanFeature(names: BatchNames): Map<string, MeteredFeature> {
  return new Map(
    [...names.planFeatures.values()].flatMap((byFeature) => [...byFeature.values()].map((f) => [f.planFeatureId, f] as const)),
  );
}

function windowKey(tenantId: string, featureId: string, start: Date): string {
  return `${tenantId}|${featureId}|${start.getTime()}`;
}
