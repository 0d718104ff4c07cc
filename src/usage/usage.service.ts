import { sql } from 'kysely';
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { reconcileCrossings } from './limits.ts';
import type { AdjustmentCreateBody, AdjustmentView, UsageWindowView } from './usage.schemas.ts';
import { mayReadTenantUsage } from './usage-access.ts';
import { loadPlanFeatures, loadSpans, loadUsageProduct, spanAt } from './usage-context.ts';
import { notifyUsageChange } from './usage-events.ts';
import { windowAt } from './windows.ts';

// Charts ask for a range; a range of more windows than this is cut (the oldest first are kept).
const MAX_WINDOWS = 1000;

/** The tenant `ref` if the caller may read its usage (operators, the product's clients, its own connection); else 404. */
export async function readableTenant(db: Db, principal: Principal, ref: string) {
  const tenant = await getVisibleTenant(db, principal, ref);
  if (!mayReadTenantUsage(principal, { id: tenant.id, productId: tenant.product_id })) {
    throw new AppError('tenant.not_found', { parameter: 'tenant' });
  }
  return tenant;
}

/** A tenant's usage per window (events and adjustments), oldest first, optionally for one feature and a range of window starts. */
export async function listUsage(
  db: Db,
  principal: Principal,
  ref: string,
  query: { feature?: string; from?: string; to?: string },
): Promise<UsageWindowView[]> {
  const tenant = await readableTenant(db, principal, ref);
  let select = db
    .selectFrom('usage_totals')
    .innerJoin('features', 'features.id', 'usage_totals.feature_id')
    .select([
      'features.name',
      'usage_totals.window_start',
      'usage_totals.window_end',
      'usage_totals.quantity',
      'usage_totals.adjusted',
      'usage_totals.events',
    ])
    .where('usage_totals.tenant_id', '=', tenant.id)
    .orderBy('usage_totals.window_start')
    .orderBy('features.name')
    .limit(MAX_WINDOWS);
  if (query.feature) select = select.where('features.name', '=', query.feature);
  if (query.from) select = select.where('usage_totals.window_start', '>=', new Date(query.from));
  if (query.to) select = select.where('usage_totals.window_start', '<', new Date(query.to));
  const rows = await select.execute();
  return rows.map((row) => ({
    feature: row.name,
    windowStart: row.window_start.toISOString(),
    windowEnd: row.window_end?.toISOString() ?? null,
    used: row.quantity + row.adjusted,
    events: row.events,
    eventQuantity: row.quantity,
    adjusted: row.adjusted,
  }));
}

/**
 * An operator's correction: a signed quantity with a reason, added to the window that
 * contains `timestamp` (now when omitted) — never an edit of the events. Audited;
 * thresholds reached or left by it emit their events in the same transaction.
 */
export async function adjustUsage(
  db: Db,
  deps: { clock: Clock },
  caller: Caller,
  ref: string,
  body: AdjustmentCreateBody,
): Promise<{ view: AdjustmentView; tenantId: string }> {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const tenant = await getVisibleTenant(db, caller.principal, ref);
  if (body.quantity === 0) throw new AppError('request.invalid', { message: '"quantity" must not be 0', parameter: 'quantity' });
  const feature = await db
    .selectFrom('features')
    .select(['id', 'name', 'type'])
    .where('product_id', '=', tenant.product_id)
    .where('name', '=', body.feature)
    .executeTakeFirst();
  if (!feature) throw new AppError('feature.not_found', { parameter: 'feature' });
  if (feature.type !== 'number')
    throw new AppError('request.invalid', { message: `"${feature.name}" is not metered`, parameter: 'feature' });
  const product = await loadUsageProduct(db, deps.clock, tenant.product_id);
  const at = body.timestamp ? new Date(body.timestamp) : product.now;
  const span = spanAt((await loadSpans(db, [tenant.id])).get(tenant.id), at);
  if (!span) throw new AppError('usage.no_subscription', { parameter: 'timestamp' });
  const metered = (await loadPlanFeatures(db, [span.planId])).get(span.planId)?.get(feature.id);
  if (!metered) throw new AppError('usage.feature_not_in_plan', { parameter: 'feature' });
  const window = windowAt(metered.reset, product.zone, span, at);
  const id = newId();
  const total = await sql<{ used: number }>`
    with adjustment as (
      insert into usage_adjustments (id, product_id, tenant_id, feature_id, window_start, quantity, reason, actor_type, actor_id, created_at)
      values (${id}::uuid, ${tenant.product_id}::uuid, ${tenant.id}::uuid, ${feature.id}::uuid, ${window.start}::timestamptz,
        ${body.quantity}, ${body.reason}, ${caller.actor.type}, ${caller.actor.id}, ${product.now}::timestamptz)
    )
    insert into usage_totals as t (tenant_id, feature_id, window_start, window_end, product_id, adjusted, updated_at)
    values (${tenant.id}::uuid, ${feature.id}::uuid, ${window.start}::timestamptz, ${window.end}::timestamptz, ${tenant.product_id}::uuid,
      ${body.quantity}, ${product.now}::timestamptz)
    on conflict (tenant_id, feature_id, window_start) do update set adjusted = t.adjusted + excluded.adjusted, updated_at = excluded.updated_at
    returning t.quantity + t.adjusted as used`.execute(db);
  const used = Number(total.rows[0]?.used ?? 0);
  await reconcileCrossings(
    db,
    {
      productId: tenant.product_id,
      tenant: { id: tenant.id, name: tenant.name },
      featureId: feature.id,
      featureName: feature.name,
      windowStart: window.start,
      windowEnd: window.end,
      used,
      limit: metered.limit,
      thresholds: metered.thresholds,
    },
    { now: product.now, realNow: deps.clock.now() },
    'correction',
  );
  const view: AdjustmentView = {
    id,
    feature: feature.name,
    quantity: body.quantity,
    reason: body.reason,
    windowStart: window.start.toISOString(),
    used,
    createdAt: product.now.toISOString(),
  };
  await insertAuditRecord(db, caller.actor, {
    action: 'usage_adjustment.create',
    objectType: 'usage_adjustment',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: { tenant: tenant.name, ...view },
  });
  await notifyUsageChange(db, [tenant.id]);
  return { view, tenantId: tenant.id };
}

/** A product's usage settings. */
export async function getUsageSettings(db: Db, principal: Principal, productRef: string): Promise<{ graceMinutes: number }> {
  const product = await getVisibleProduct(db, principal, productRef);
  const row = await sql<{ grace: number }>`select usage_grace_minutes as grace from products where id = ${product.id}::uuid`.execute(db);
  return { graceMinutes: row.rows[0]?.grace ?? 60 };
}

/** Changes a product's usage settings (operators; audited). */
export async function putUsageSettings(db: Db, caller: Caller, productRef: string, body: { graceMinutes: number }) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef, true);
  const before = await getUsageSettings(db, caller.principal, product.id);
  await sql`update products set usage_grace_minutes = ${body.graceMinutes} where id = ${product.id}::uuid`.execute(db);
  await insertAuditRecord(db, caller.actor, {
    action: 'usage_settings.update',
    objectType: 'usage_settings',
    objectId: product.id,
    productId: product.id,
    before,
    after: body,
  });
  return body;
}
