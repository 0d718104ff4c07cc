import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';

/**
 * What usage needs to know about subscriptions and products: who was subscribed to
 * which plan when, from which anchor, in which zone, and what "now" is for the product.
 * Kept in one file so that the rest of usage does not depend on how commerce stores them.
 */

/** A subscription's life: live in `[start, end)` (end null: still live), on `planId`, periods from `anchor`. */
export interface SubscriptionSpan {
  id: string;
  planId: string;
  planName: string;
  anchor: Date;
  start: Date;
  end: Date | null;
}

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
}

/** The product's usage settings and clock. */
export async function loadUsageProduct(db: Db, clock: Clock, productId: string): Promise<UsageProduct> {
  const row = await sql<{ id: string; grace: number }>`
    select id, usage_grace_minutes as grace from products where id = ${productId}`.execute(db);
  const product = row.rows[0];
  if (!product) throw new Error(`product ${productId} vanished`);
  return { id: product.id, zone: 'UTC', graceMs: product.grace * 60_000, sandbox: false, now: clock.now() };
}

/**
 * Every subscription span of the tenants given, by tenant id. Until subscriptions are
 * stored, a tenant with a plan price counts as subscribed since it was created, its
 * anchor the creation instant.
 */
export async function loadSpans(db: Db, tenantIds: readonly string[]): Promise<Map<string, SubscriptionSpan[]>> {
  const spans = new Map<string, SubscriptionSpan[]>();
  if (tenantIds.length === 0) return spans;
  const rows = await db
    .selectFrom('tenants')
    .innerJoin('plan_prices', 'plan_prices.id', 'tenants.plan_price_id')
    .innerJoin('plans', 'plans.id', 'plan_prices.plan_id')
    .select(['tenants.id as tenant_id', 'tenants.created_at', 'plans.id as plan_id', 'plans.name as plan_name'])
    .where('tenants.id', 'in', tenantIds)
    .execute();
  for (const row of rows) {
    const span = {
      id: row.tenant_id,
      planId: row.plan_id,
      planName: row.plan_name,
      anchor: row.created_at,
      start: row.created_at,
      end: null,
    };
    spans.set(row.tenant_id, [...(spans.get(row.tenant_id) ?? []), span]);
  }
  return spans;
}

/** The span live at `instant`, if any. */
export function spanAt(spans: readonly SubscriptionSpan[] | undefined, instant: Date): SubscriptionSpan | undefined {
  const at = instant.getTime();
  return spans?.find((span) => span.start.getTime() <= at && (span.end === null || at < span.end.getTime()));
}

/** The metered features of the plans given: plan id → feature id → feature. */
export async function loadPlanFeatures(db: Db, planIds: readonly string[]): Promise<Map<string, Map<string, MeteredFeature>>> {
  const byPlan = new Map<string, Map<string, MeteredFeature>>();
  if (planIds.length === 0) return byPlan;
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
      'features.id as feature_id',
      'features.name as feature_name',
      'features.type',
    ])
    .where('plan_features.plan_id', 'in', [...new Set(planIds)])
    .orderBy('features.name')
    .execute();
  for (const row of rows) {
    const features = byPlan.get(row.plan_id) ?? new Map<string, MeteredFeature>();
    features.set(row.feature_id, {
      planFeatureId: row.id,
      featureId: row.feature_id,
      featureName: row.feature_name,
      type: row.type,
      limit: row.limit_value,
      reset: row.reset,
      enforcement: row.enforcement,
      thresholds: row.thresholds,
    });
    byPlan.set(row.plan_id, features);
  }
  return byPlan;
}
