import { createHash } from 'node:crypto';
import { type Caller, requireRole } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { AppError, errorItem } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import type { Clock } from '../platform/clock.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { type EventRow, findStoredHashes, flagOverLimit, insertUsageBatch } from './ingest.repo.ts';
import { resolveBatch } from './ingest-resolve.ts';
import type { UsageBatchBody, UsageBatchResultView, UsageEventInputBody, UsageOutcomeView } from './usage.schemas.ts';
import { type SubscriptionSpan, spanAt } from './usage-context.ts';
import { recordCrossing } from './usage-events.ts';
import { closesAt, type UsageWindow, windowAt } from './windows.ts';

/** An event may be stamped at most this far ahead of the product's clock (producers' clocks drift). */
export const MAX_FUTURE_MS = 5 * 60_000;

/** What ingestion needs besides the database. */
export interface IngestDeps {
  clock: Clock;
}

type Judged = { outcome: 'rejected'; code: ErrorCode; message?: string } | { outcome: 'candidate'; row: EventRow };

/**
 * Takes a batch of usage events from a product. A malformed batch (schema, a feature the
 * product does not have or does not meter) is a 400 naming `events.N.field` and stores
 * nothing. Otherwise every event gets an outcome: accepted (stored and counted, in one
 * statement), duplicate (same id, same body: a retry), or rejected with a code.
 */
export async function ingestUsage(
  db: Db,
  deps: IngestDeps,
  caller: Caller,
  body: UsageBatchBody,
): Promise<{ view: UsageBatchResultView; changed: string[] }> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const productRef = body.product ?? caller.principal.productId;
  if (!productRef)
    throw new AppError('request.invalid', { message: '"product" is required for a credential of no one product', parameter: 'product' });
  // A client's own product needs no lookup: the one statement that resolves the batch checks it exists.
  const productId =
    body.product === undefined && caller.principal.productId
      ? caller.principal.productId
      : (await getVisibleProduct(db, caller.principal, productRef)).id;
  const { product: context, features, tenants, spans, planFeatures } = await resolveBatch(db, deps.clock, productId, body.events);
  const product = { id: productId };

  // A batch's events mostly fall in a few windows: the calendar is asked once per window, not per event.
  const lastWindow = new Map<string, UsageWindow>();
  const windowOf = (reset: string, span: SubscriptionSpan, at: Date): UsageWindow => {
    const key = `${span.id}|${reset}`;
    const known = lastWindow.get(key);
    if (known && known.start.getTime() <= at.getTime() && (known.end === null || at.getTime() < known.end.getTime())) return known;
    const window = windowAt(reset, context.zone, span, at);
    lastWindow.set(key, window);
    return window;
  };
  const firstIndex = new Map<string, number>();
  const judged: Judged[] = body.events.map((event) => {
    const tenant = tenants.get(event.tenant);
    if (!tenant) return { outcome: 'rejected', code: 'usage.tenant_not_found' };
    const feature = features.get(event.feature) as { id: string };
    const occurredAt = new Date(event.timestamp);
    if (occurredAt.getTime() > context.now.getTime() + MAX_FUTURE_MS) return { outcome: 'rejected', code: 'usage.in_future' };
    const span = spanAt(spans.get(tenant.id), occurredAt);
    if (!span) return { outcome: 'rejected', code: 'usage.no_subscription' };
    const metered = planFeatures.get(span.planId)?.get(feature.id);
    if (!metered) return { outcome: 'rejected', code: 'usage.feature_not_in_plan' };
    const window = windowOf(metered.reset, span, occurredAt);
    if (closesAt(window, span, context.graceMs) <= context.now.getTime()) return { outcome: 'rejected', code: 'usage.window_closed' };
    return {
      outcome: 'candidate',
      row: {
        producerId: event.id,
        tenantId: tenant.id,
        featureId: feature.id,
        planFeatureId: metered.planFeatureId,
        quantity: event.quantity,
        occurredAt,
        windowStart: window.start,
        windowEnd: window.end,
        properties: event.properties ?? null,
        bodyHash: bodyHash(tenant.id, event),
      },
    };
  });
  // The same id twice in one batch: the first one is stored, the others judged against it.
  const repeats = new Set<number>();
  body.events.forEach((event, index) => {
    if (firstIndex.has(event.id)) repeats.add(index);
    else firstIndex.set(event.id, index);
  });
  const rows = judged.flatMap((entry, index) => (entry.outcome === 'candidate' && !repeats.has(index) ? [entry.row] : []));

  const written = rows.length
    ? await insertUsageBatch(db, product.id, { now: context.now, realNow: deps.clock.now() }, rows)
    : { inserted: [], totals: [], crossed: [] };
  const inserted = new Set(written.inserted);
  const limits = new Map(
    [...planFeatures.values()].flatMap((byFeature) => [...byFeature.values()].map((f) => [f.planFeatureId, f.limit] as const)),
  );
  await flagEventsOverLimit(db, product.id, rows, inserted, written.totals, limits);
  for (const crossing of written.crossed) {
    const tenant = [...tenants.values()].find((candidate) => candidate.id === crossing.tenant_id);
    const total = written.totals.find(
      (t) => t.tenant_id === crossing.tenant_id && t.feature_id === crossing.feature_id && t.window_start === crossing.window_start,
    );
    const featureName = [...features.entries()].find(([, feature]) => feature.id === crossing.feature_id)?.[0] ?? '';
    await recordCrossing(
      db,
      product.id,
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
      context.now,
    );
  }
  // The batch statement notified these tenants' change; this node forgets them once it commits.
  const changed = [...new Set(written.totals.map((total) => total.tenant_id))];

  // Not inserted: stored before (or by a concurrent batch) — or rejected. A stored id decides.
  const undecided = body.events.filter((event, index) => repeats.has(index) || !inserted.has(event.id));
  const stored = await findStoredHashes(db, product.id, [...new Set(undecided.map((event) => event.id))]);
  const outcomes = body.events.map((event, index): UsageOutcomeView => {
    const entry = judged[index] as Judged;
    const first = judged[firstIndex.get(event.id) as number] as Judged;
    if (!repeats.has(index) && inserted.has(event.id)) return { id: event.id, outcome: 'accepted' };
    const hash = entry.outcome === 'candidate' ? entry.row.bodyHash : undefined;
    const storedHash = stored.get(event.id) ?? (repeats.has(index) && first.outcome === 'candidate' ? first.row.bodyHash : undefined);
    if (storedHash !== undefined) {
      if (hash === storedHash || (hash === undefined && bodyHashOrNull(tenants, event) === storedHash))
        return { id: event.id, outcome: 'duplicate' };
      return rejected(event.id, 'usage.conflict');
    }
    if (entry.outcome === 'rejected') return rejected(event.id, entry.code);
    // Neither inserted nor stored: only a repeat of an event that was itself rejected.
    return rejected(event.id, first.outcome === 'rejected' ? first.code : 'usage.conflict');
  });
  const view = {
    accepted: outcomes.filter((o) => o.outcome === 'accepted').length,
    duplicates: outcomes.filter((o) => o.outcome === 'duplicate').length,
    rejected: outcomes.filter((o) => o.outcome === 'rejected').length,
    events: outcomes,
  };
  return { view, changed };
}

function rejected(id: string, code: ErrorCode): UsageOutcomeView {
  return { id, outcome: 'rejected', code, message: errorItem(code).message };
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
  totals: readonly { tenant_id: string; feature_id: string; window_start: string; used: number }[],
  limits: ReadonlyMap<string, number | null>,
): Promise<void> {
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
      const limit = limits.get(row.planFeatureId) ?? null;
      if (limit !== null && running > limit) flagged.push(row.producerId);
    }
  }
  await flagOverLimit(db, productId, flagged);
}

function windowKey(tenantId: string, featureId: string, start: Date): string {
  return `${tenantId}|${featureId}|${start.getTime()}`;
}

/** The hash that tells a retry from a different event with the same id. */
export function bodyHash(tenantId: string, event: UsageEventInputBody): string {
  const canonical = JSON.stringify([
    tenantId,
    event.feature,
    event.quantity,
    new Date(event.timestamp).getTime(),
    sortKeys(event.properties ?? null),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

function bodyHashOrNull(tenants: Map<string, { id: string }>, event: UsageEventInputBody): string | null {
  const tenant = tenants.get(event.tenant);
  return tenant ? bodyHash(tenant.id, event) : null;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
