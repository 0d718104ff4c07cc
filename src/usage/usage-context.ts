import { sql } from 'kysely';
import { DEFAULT_BILLING_ZONE } from '../commerce/calendar.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { type AppliedChangeRow, anchorHistory, loadAppliedChanges, splitByChanges } from './plan-history.ts';

/**
 * What usage needs to know about subscriptions and products: who was subscribed to
 * which plan when, from which anchor, in which zone, and what "now" is for the product
 * (commerce's tables, ADR 0008). Kept in one file so that the rest of usage does not
 * depend on how commerce stores them.
 */

/** A subscription's life: live in `[start, end)` (end null: still live), on `planId`, periods from `anchors`. */
export interface SubscriptionSpan {
  id: string;
  planId: string;
  planName: string;
  /** Every anchor its periods were counted from, oldest first, each in force from its own instant (`anchorHistory`). */
  anchors: readonly Date[];
  start: Date;
  end: Date | null;
  /** The zone its periods are counted in (the product's billing zone when it subscribed). */
  zone: string;
  /** The currency it bills in. */
  currency: string;
  /** The stretch of its life this span covers: one plan, between two applied changes (`plan-history.ts`). */
  segment: { start: Date; end: Date | null };
  /** The latest confirmed reset at or before the segment (usage windows restart there), and the next one after it. */
  resetAt: Date | null;
  nextResetAt: Date | null;
}

const ENDED = ['canceled', 'expired'];

/** A product's usage settings and its "now" (a sandbox product's own commerce clock). */
export interface UsageProduct {
  id: string;
  zone: string;
  graceMs: number;
  /** A sandbox product's clock moves on request: its answers are never cached. */
  sandbox: boolean;
  now: Date;
}

/** A plan's feature as usage applies it. */
export interface MeteredFeature {
  planFeatureId: string;
  featureId: string;
  featureName: string;
  type: string;
  limit: number | null;
  reset: string;
  enforcement: string;
  thresholds: number[];
  /** Per unit over the limit, in minor units of the subscription's currency; null: no overage billing. */
  overageUnitPrice: number | null;
}

/** The product's usage settings, billing zone and commerce clock (a sandbox product's own). */
export async function loadUsageProduct(db: Db, clock: Clock, productId: string): Promise<UsageProduct> {
  const row = await sql<{ grace: number; zone: string | null; sandbox: boolean | null; offset: number | null }>`
    select p.usage_grace_minutes as grace, b.time_zone as zone, b.sandbox, b.clock_offset_ms as offset
    from products p left join product_billing b on b.product_id = p.id
    where p.id = ${productId}::uuid`.execute(db);
  const product = row.rows[0];
  if (!product) throw new Error(`product ${productId} vanished`);
  return toUsageProduct(productId, product, clock);
}

/** A product's usage settings from its row (`usage_grace_minutes`, and its `product_billing` row if any). */
export function toUsageProduct(
  productId: string,
  row: { grace: number; zone: string | null; sandbox: boolean | null; offset: number | string | null },
  clock: Clock,
): UsageProduct {
  return {
    id: productId,
    zone: row.zone ?? DEFAULT_BILLING_ZONE,
    graceMs: row.grace * 60_000,
    sandbox: row.sandbox ?? false,
    now: new Date(clock.now().getTime() + Number(row.offset ?? 0)),
  };
}

/**
 * Every subscription of the tenants given, as spans of life, by tenant id: live from its
 * start until it ended (canceled or expired), on the plan of its price, its periods
 * counted from the anchor in force at each instant (a trial's end and a change of cycle move
 * it: `anchorHistory`) in its zone.
 */
export async function loadSpans(db: Db, tenantIds: readonly string[]): Promise<Map<string, SubscriptionSpan[]>> {
  if (tenantIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('subscriptions')
    .innerJoin('plan_prices', 'plan_prices.id', 'subscriptions.price_id')
    .innerJoin('plans', 'plans.id', 'plan_prices.plan_id')
    .select([
      'subscriptions.id',
      'subscriptions.tenant_id',
      'subscriptions.status',
      'subscriptions.anchor_at',
      'subscriptions.start_at',
      'subscriptions.trial_end_at',
      'subscriptions.ended_at',
      'subscriptions.updated_at',
      'subscriptions.time_zone',
      'subscriptions.currency',
      'plans.id as plan_id',
      'plans.name as plan_name',
    ])
    .where('subscriptions.tenant_id', 'in', [...tenantIds])
    .orderBy('subscriptions.start_at')
    .execute();
  return groupSpans(
    rows,
    await loadAppliedChanges(
      db,
      rows.map((row) => row.id),
    ),
  );
}

/** A subscription row as spans are built from (timestamps as Dates or as JSON strings). */
export interface SpanRow {
  id: string;
  tenant_id: string;
  status: string;
  anchor_at: Date | string;
  start_at: Date | string;
  trial_end_at: Date | string | null;
  ended_at: Date | string | null;
  updated_at: Date | string;
  time_zone: string;
  currency: string;
  plan_id: string;
  plan_name: string;
}

/** Subscription rows (ordered by start) as spans by tenant id. */
export function groupSpans(rows: readonly SpanRow[], changes: readonly AppliedChangeRow[] = []): Map<string, SubscriptionSpan[]> {
  const spans = new Map<string, SubscriptionSpan[]>();
  for (const row of rows) {
    // A subscription that ended without a recorded end ended when it last changed.
    const ended = row.ended_at ?? (ENDED.includes(row.status) ? row.updated_at : null);
    const mine = changes.filter((change) => change.subscription_id === row.id);
    const anchors = anchorHistory(
      {
        start: new Date(row.start_at),
        trialEnd: row.trial_end_at === null ? null : new Date(row.trial_end_at),
        anchor: new Date(row.anchor_at),
      },
      mine,
    );
    const span: SubscriptionSpan = {
      id: row.id,
      planId: row.plan_id,
      planName: row.plan_name,
      anchors,
      start: new Date(row.start_at),
      end: ended === null ? null : new Date(ended),
      zone: row.time_zone,
      currency: row.currency,
      segment: { start: new Date(row.start_at), end: null },
      resetAt: null,
      nextResetAt: null,
    };
    const pieces = splitByChanges(span, mine);
    const list = spans.get(row.tenant_id);
    if (list) list.push(...pieces);
    else spans.set(row.tenant_id, pieces);
  }
  return spans;
}

/** The span live at `instant`, if any: its subscription live then, on the plan in force then. */
export function spanAt(spans: readonly SubscriptionSpan[] | undefined, instant: Date): SubscriptionSpan | undefined {
  const at = instant.getTime();
  const within = (start: Date, end: Date | null) => start.getTime() <= at && (end === null || at < end.getTime());
  return spans?.find((span) => within(span.start, span.end) && within(span.segment.start, span.segment.end));
}

/** The metered features of the plans given: plan id → feature id → feature. */
export async function loadPlanFeatures(db: Db, planIds: readonly string[]): Promise<Map<string, Map<string, MeteredFeature>>> {
  if (planIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('plan_features')
    .innerJoin('features', 'features.id', 'plan_features.feature_id')
    .select([
      'plan_features.id',
      'plan_features.plan_id',
      'plan_features.limit_value',
      'plan_features.reset',
      'plan_features.enforcement',
      'plan_features.thresholds',
      'plan_features.overage_unit_price_minor',
      'features.id as feature_id',
      'features.name as feature_name',
      'features.type',
    ])
    .where('plan_features.plan_id', 'in', [...new Set(planIds)])
    .orderBy('features.name')
    .execute();
  return groupPlanFeatures(rows);
}

/** A plan feature row joined with its feature. */
export interface PlanFeatureRow {
  id: string;
  plan_id: string;
  limit_value: number | null;
  reset: string;
  enforcement: string;
  thresholds: number[];
  overage_unit_price_minor: number | null;
  feature_id: string;
  feature_name: string;
  type: string;
}

/** Plan feature rows as plan id → feature id → feature. */
export function groupPlanFeatures(rows: readonly PlanFeatureRow[]): Map<string, Map<string, MeteredFeature>> {
  const byPlan = new Map<string, Map<string, MeteredFeature>>();
  for (const row of rows) {
    const features = byPlan.get(row.plan_id) ?? new Map<string, MeteredFeature>();
    features.set(row.feature_id, {
      planFeatureId: row.id,
      featureId: row.feature_id,
      featureName: row.feature_name,
      type: row.type,
      limit: row.limit_value === null ? null : Number(row.limit_value),
      reset: row.reset,
      enforcement: row.enforcement,
      thresholds: row.thresholds,
      overageUnitPrice: row.overage_unit_price_minor === null ? null : Number(row.overage_unit_price_minor),
    });
    byPlan.set(row.plan_id, features);
  }
  return byPlan;
}
