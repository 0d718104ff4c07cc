import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { LIVE_STATUSES, type Status } from '../tenants/workflow.ts';
import type { CheckResultView, EntitlementsView, EntitlementView } from './usage.schemas.ts';
import { loadPlanFeatures, loadSpans, loadUsageProduct, spanAt } from './usage-context.ts';
import { windowAt } from './windows.ts';

/** A tenant's entitlements as computed from the database, with how long they hold. */
export interface TenantEntitlements {
  productId: string;
  view: EntitlementsView;
  /** Every feature name the product has (a name outside it is 404, one outside the plan is not allowed). */
  productFeatures: ReadonlySet<string>;
  /** The instant (ms) the first window ends: the answer is stale from then on. */
  validUntil: number;
  /** False for a sandbox product, whose clock moves on request. */
  cacheable: boolean;
  /** The product's commerce "now" they were computed for. */
  now: Date;
}

/**
 * Computes what a tenant may use now: for every feature of the plan of its live
 * subscription, the limit, the usage of the window that contains now, and what is left.
 * Undefined when there is no such tenant.
 */
export async function computeEntitlements(db: Db, clock: Clock, tenantRef: string): Promise<TenantEntitlements | undefined> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantRef);
  const tenant = await db
    .selectFrom('tenants')
    .select(['id', 'name', 'status', 'product_id'])
    .where(isId ? 'id' : 'name', '=', isId ? tenantRef.toLowerCase() : tenantRef)
    .executeTakeFirst();
  if (!tenant) return undefined;
  const product = await loadUsageProduct(db, clock, tenant.product_id);
  const span = spanAt((await loadSpans(db, [tenant.id])).get(tenant.id), product.now);
  const metered = span ? [...((await loadPlanFeatures(db, [span.planId])).get(span.planId)?.values() ?? [])] : [];
  const windows = metered.map((feature) => (span ? windowAt(feature.reset, product.zone, span, product.now) : null));
  const keys = metered.flatMap((feature, index) => {
    const window = windows[index];
    return feature.type === 'number' && window ? [{ feature: feature.featureId, start: window.start }] : [];
  });
  const totals = keys.length
    ? (
        await sql<{ feature_id: string; used: number }>`
          select t.feature_id, t.quantity + t.adjusted as used from usage_totals t
          join unnest(${keys.map((key) => key.feature)}::uuid[], ${keys.map((key) => key.start.toISOString())}::timestamptz[]) as k(feature_id, window_start)
            on t.feature_id = k.feature_id and t.window_start = k.window_start
          where t.tenant_id = ${tenant.id}::uuid`.execute(db)
      ).rows
    : [];
  const used = new Map(totals.map((row) => [row.feature_id, Number(row.used)]));
  let validUntil = product.now.getTime() + 60_000;
  const features = metered.map((feature, index): EntitlementView => {
    const window = windows[index] ?? null;
    if (window?.end) validUntil = Math.min(validUntil, window.end.getTime());
    const amount = feature.type === 'number' ? (used.get(feature.featureId) ?? 0) : 0;
    const limit = feature.type === 'number' ? feature.limit : null;
    return {
      feature: feature.featureName,
      type: feature.type,
      included: true,
      limit,
      used: amount,
      remaining: limit === null ? null : Math.max(0, limit - amount),
      reset: feature.reset,
      windowStart: feature.type === 'number' && window ? window.start.toISOString() : null,
      windowEnd: feature.type === 'number' && window?.end ? window.end.toISOString() : null,
      enforcement: feature.enforcement,
      overLimit: limit !== null && amount > limit,
    };
  });
  const names = await db.selectFrom('features').select('name').where('product_id', '=', tenant.product_id).execute();
  return {
    productId: tenant.product_id,
    view: {
      tenant: { id: tenant.id, name: tenant.name, status: tenant.status },
      plan: span ? { id: span.planId, name: span.planName } : null,
      features,
    },
    productFeatures: new Set(names.map((row) => row.name)),
    validUntil,
    cacheable: !product.sandbox,
    now: product.now,
  };
}

/**
 * The answer to "may the tenant use `quantity` more of `feature` now?": a hard limit
 * allows up to the limit; a soft one always allows (it only warns); a boolean feature is
 * allowed when the plan includes it. A tenant that is not live, or a feature outside the
 * plan, is not allowed.
 */
export function checkEntitlement(entitlements: TenantEntitlements, feature: string, quantity: number): CheckResultView {
  const live = LIVE_STATUSES.includes(entitlements.view.tenant.status as Status);
  const entry = entitlements.view.features.find((candidate) => candidate.feature === feature);
  if (!entry) return { allowed: false, used: 0, limit: 0, remaining: 0 };
  const withinLimit = entry.limit === null || entry.enforcement === 'soft' || entry.used + quantity <= entry.limit;
  return { allowed: live && entry.included && withinLimit, used: entry.used, limit: entry.limit, remaining: entry.remaining };
}
