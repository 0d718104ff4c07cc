/**
 * Where tenants meet subscriptions: a tenant created with a price gets its subscription in the statement that
 * creates it, and a tenant's deletion cancels its live subscription in the deletion's transaction.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Actor } from '../access/principal.ts';
import { auditInsert } from '../audit/audit.repo.ts';
import type { ProductPriceRow } from '../catalogue/prices.repo.ts';
import type { Db } from '../db/database.ts';
import type { NewEvent } from '../events/events.repo.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { Clock } from '../platform/clock.ts';
import { lockTenant } from '../tenants/tenants.repo.ts';
import { findBillingSettings } from './billing-settings.ts';
import { LIVE_STATUSES, stateOf, subscriptionView } from './subscription-state.ts';
import * as repo from './subscriptions.repo.ts';
import { applyDue, newSubscriptionValues } from './subscriptions.service.ts';

/** A subscription written beside its new tenant: the insert (one row per row of CTE `created`) and its event. */
export interface TenantSubscriptionInsert {
  cte: (from: RawBuilder<unknown>) => RawBuilder<unknown>;
  events: NewEvent[];
}

/** The pending subscription of a tenant being created on `price`, to write in the tenant's own statement. */
export async function newTenantSubscription(
  db: Db,
  clock: Clock,
  input: { tenantId: string; price: ProductPriceRow },
): Promise<TenantSubscriptionInsert> {
  const settings = await findBillingSettings(db, input.price.product_id);
  const now = new Date(clock.now().getTime() + settings.clockOffsetMs);
  const values = newSubscriptionValues({ tenantId: input.tenantId, price: input.price, settings, now, startAt: now });
  const view = subscriptionView(
    stateOf({
      ...values,
      anchor_number: 0,
      trial_notice_sent: false,
      cancel_at: null,
      ended_at: null,
      current_period_number: null,
      current_period_start: null,
      current_period_end: null,
      renewal_failures: 0,
      renewal_failed_at: null,
      renewal_error: null,
      version: 1,
    }),
  );
  const v = values;
  const cte = (from: RawBuilder<unknown>) => sql`
    insert into subscriptions (id, product_id, tenant_id, price_id, status, cycle_unit, cycle_count, amount_minor, currency, time_zone,
      anchor_at, start_at, trial_end_at, trial_notice_at, auto_renew, next_action_at, created_at, updated_at)
    select ${v.id}::uuid, ${v.product_id}::uuid, ${v.tenant_id}::uuid, ${v.price_id}::uuid, ${v.status}, ${v.cycle_unit}::text,
      ${v.cycle_count}::int, ${v.amount_minor}::bigint, ${v.currency}, ${v.time_zone}, ${v.anchor_at}::timestamptz,
      ${v.start_at}::timestamptz, ${v.trial_end_at}::timestamptz, ${v.trial_notice_at}::timestamptz, ${v.auto_renew}::boolean,
      ${v.next_action_at}::timestamptz, ${v.created_at}::timestamptz, ${v.updated_at}::timestamptz
    from ${from}
    returning id`;
  return {
    cte,
    events: [
      {
        type: 'subscription.created',
        productId: input.price.product_id,
        tenantId: input.tenantId,
        occurredAt: now,
        data: { subscription: view },
      },
    ],
  };
}

/** Opens the first period (or trial) of a tenant's pending subscription now, rather than at the next sweep. */
export async function startTenantSubscription(db: Db, clock: Clock, tenantId: string): Promise<void> {
  const run = async (tx: Db) => {
    // The tenant before the subscription, the order renewals and plan changes take (ADR 0009).
    await lockTenant(tx, tenantId);
    const row = await repo.findTenantSubscription(tx, tenantId, { lock: true });
    if (row?.status !== 'pending') return;
    const settings = await findBillingSettings(tx, row.product_id);
    await applyDue(tx, row, new Date(clock.now().getTime() + settings.clockOffsetMs));
  };
  await (db.isTransaction ? run(db) : db.transaction().execute(run));
}

/** Cancels a tenant's live subscription now because the tenant is being deleted (in the deletion's transaction). */
export async function cancelSubscriptionOfDeletedTenant(
  db: Db,
  clock: Clock,
  tenantId: string,
  actor: Actor,
  reason = 'tenant deleted',
): Promise<void> {
  const row = await repo.findTenantSubscription(db, tenantId, { lock: true });
  if (!row || !LIVE_STATUSES.includes(row.status as never)) return;
  const settings = await findBillingSettings(db, row.product_id);
  const now = new Date(clock.now().getTime() + settings.clockOffsetMs);
  const state = { ...stateOf(row), status: 'canceled' as const, cancelAt: now, endedAt: now, nextActionAt: null };
  const saved = await repo.saveSubscriptionState(db, state, now);
  await repo.mirrorTenantPlan(db, tenantId, null);
  const after = subscriptionView(stateOf(saved));
  const audit = auditInsert(actor, {
    action: 'subscription.cancel',
    objectType: 'subscription',
    objectId: row.id,
    productId: row.product_id,
    tenantId,
    before: subscriptionView(stateOf(row)),
    after,
  });
  await recordEvent(
    db,
    {
      type: 'subscription.canceled',
      productId: row.product_id,
      tenantId,
      occurredAt: now,
      data: { subscription: after, reason },
    },
    audit,
  );
}
