import { sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import { AppError, assertNoProblems, type ErrorItem, errorItem } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';
import type { AppliedChangeRow } from './plan-history.ts';
import type { UsageEventInputBody } from './usage.schemas.ts';
import {
  groupPlanFeatures,
  groupSpans,
  type MeteredFeature,
  type PlanFeatureRow,
  type SpanRow,
  type SubscriptionSpan,
  toUsageProduct,
  type UsageProduct,
} from './usage-context.ts';

/** Everything a batch is judged against, read in one round trip. */
export interface ResolvedBatch {
  product: UsageProduct;
  /** The product's features named in the batch, by name. */
  features: Map<string, { id: string; name: string; type: string }>;
  /** The product's tenants named in the batch, by the reference used (id or name). */
  tenants: Map<string, { id: string; name: string }>;
  spans: Map<string, SubscriptionSpan[]>;
  planFeatures: Map<string, Map<string, MeteredFeature>>;
}

interface ResolveRow {
  product: { grace: number; zone: string | null; sandbox: boolean | null; offset: number | string | null } | null;
  features: { id: string; name: string; type: string }[] | null;
  tenants: { id: string; name: string }[] | null;
  spans: SpanRow[] | null;
  plan_features: PlanFeatureRow[] | null;
  changes: AppliedChangeRow[] | null;
}

/**
 * Reads what judging a batch needs — the product's usage settings and clock, the features
 * and tenants it names, their subscriptions and those plans' features — in one statement
 * (the hot path of ingestion: one round trip instead of five). A feature the product does
 * not have, or does not meter, is a 400 naming `events.N.feature`.
 */
export async function resolveBatch(
  db: Db,
  clock: Clock,
  productId: string,
  events: readonly UsageEventInputBody[],
): Promise<ResolvedBatch> {
  const names = [...new Set(events.map((event) => event.feature))];
  const refs = [...new Set(events.map((event) => event.tenant))];
  const ids = refs.filter(isUuid).map((ref) => ref.toLowerCase());
  const [row] = await executePrepared(
    db,
    sql<ResolveRow>`
    with f as (select id, name, type from features where product_id = ${productId}::uuid and name = any(${names}::text[])),
    t as (select id, name from tenants where product_id = ${productId}::uuid and (name = any(${refs}::text[]) or id = any(${ids}::uuid[]))),
    s as (
      select s.id, s.tenant_id, s.status, s.anchor_at, s.start_at, s.trial_end_at, s.ended_at, s.updated_at, s.time_zone, s.currency,
        pp.plan_id, pl.name as plan_name
      from subscriptions s join t on t.id = s.tenant_id join plan_prices pp on pp.id = s.price_id join plans pl on pl.id = pp.plan_id
      order by s.start_at),
    c as (
      select c.subscription_id, c.kind, c.effective_at, fp.plan_id as from_plan_id, fpl.name as from_plan_name,
        tp.plan_id as to_plan_id, tpl.name as to_plan_name, c.anchor_at
      from subscription_changes c join s on s.id = c.subscription_id
        join plan_prices fp on fp.id = c.from_price_id join plans fpl on fpl.id = fp.plan_id
        join plan_prices tp on tp.id = c.to_price_id join plans tpl on tpl.id = tp.plan_id
      where c.status = 'applied'
      order by c.effective_at, c.id),
    pf as (
      select pf.id, pf.plan_id, pf.limit_value, pf.reset, pf.enforcement, pf.thresholds, pf.overage_unit_price_minor,
        f.id as feature_id, f.name as feature_name, f.type
      from plan_features pf join f on f.id = pf.feature_id
      where pf.plan_id in (select plan_id from s union select from_plan_id from c union select to_plan_id from c))
    select
      (select json_build_object('grace', p.usage_grace_minutes, 'zone', b.time_zone, 'sandbox', b.sandbox, 'offset', b.clock_offset_ms)
        from products p left join product_billing b on b.product_id = p.id where p.id = ${productId}::uuid) as product,
      (select json_agg(f) from f) as features,
      (select json_agg(t) from t) as tenants,
      (select json_agg(s) from s) as spans,
      (select json_agg(c) from c) as changes,
      (select json_agg(pf) from pf) as plan_features`,
  );
  if (!row?.product) throw new AppError('product.not_found', { parameter: 'product' });
  const features = new Map((row.features ?? []).map((feature) => [feature.name, feature]));
  const problems: ErrorItem[] = [];
  events.forEach((event, index) => {
    const feature = features.get(event.feature);
    const parameter = `events.${index}.feature`;
    if (!feature) problems.push(errorItem('request.invalid', `The product has no feature "${event.feature}"`, parameter));
    else if (feature.type !== 'number')
      problems.push(errorItem('request.invalid', `"${event.feature}" is a ${feature.type} feature: it is not metered`, parameter));
  });
  assertNoProblems(problems.slice(0, 20));
  const byKey = new Map<string, { id: string; name: string }>();
  for (const tenant of row.tenants ?? []) byKey.set(tenant.name, tenant).set(tenant.id, tenant);
  const tenants = new Map<string, { id: string; name: string }>();
  for (const ref of refs) {
    // A name is matched as written; an id in any case.
    const tenant = byKey.get(ref) ?? (isUuid(ref) ? byKey.get(ref.toLowerCase()) : undefined);
    if (tenant && (tenant.name === ref || tenant.id === ref.toLowerCase())) tenants.set(ref, tenant);
  }
  return {
    product: toUsageProduct(productId, row.product, clock),
    features,
    tenants,
    spans: groupSpans(row.spans ?? [], row.changes ?? []),
    planFeatures: groupPlanFeatures(row.plan_features ?? []),
  };
}
