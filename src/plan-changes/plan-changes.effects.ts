/**
 * What a plan change does once it resolves. Confirmed: the subscription moves onto the
 * new price (now, with proration lines on an invoice of their own; or at the period's
 * end, whose held renewal then opens the period once, on the new price), or its usage
 * windows restart (reset). Failed: nothing changes, and a held renewal opens the period
 * on the old price. Both run in the transaction that settles the change, which holds
 * the change row locked.
 */

import type { Actor } from '../access/principal.ts';
import { SYSTEM_ACTOR } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { writeFinalizedInvoice } from '../billing/invoicing.ts';
import { commerceNow } from '../commerce/billing-settings.ts';
import { boundary, calendarDaysBetween, cycleOfPrice } from '../commerce/calendar.ts';
import type { SubscriptionRow } from '../commerce/subscription-state.ts';
import { LIVE_STATUSES, stateOf, subscriptionView } from '../commerce/subscription-state.ts';
import { mirrorTenantPlan } from '../commerce/subscriptions.repo.ts';
import { applyDue } from '../commerce/subscriptions.service.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { Clock } from '../platform/clock.ts';
import { realignStoredWindows } from '../usage/reset-windows.ts';
import type { ChangeRow } from './plan-changes.repo.ts';
import * as repo from './plan-changes.repo.ts';
import { changeView } from './plan-changes.view.ts';
import { type ProrationLine, prorationLines } from './proration.ts';

/** What resolving a change needs. */
export interface ChangeDeps {
  clock: Clock;
}

/** Records a change event with the subscription and the change as they are now. */
async function changeEvent(db: Db, type: string, change: ChangeRow, subscription: SubscriptionRow | undefined, at: Date) {
  await recordEvent(db, {
    type,
    productId: change.product_id,
    tenantId: change.tenant_id,
    occurredAt: at,
    data: { ...(subscription ? { subscription: subscriptionView(stateOf(subscription)) } : {}), change: changeView(change) },
  });
}

/** Records `subscription.plan_change_requested` for a change just written. */
export async function changeRequested(db: Db, change: ChangeRow, subscription: SubscriptionRow, at: Date): Promise<void> {
  await changeEvent(db, 'subscription.plan_change_requested', change, subscription, at);
}

/** The subscription the change is about, locked (undefined when it is no longer live). */
async function lockSubscription(db: Db, change: ChangeRow): Promise<SubscriptionRow | undefined> {
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', change.subscription_id).forUpdate().executeTakeFirst();
  return row && LIVE_STATUSES.includes(row.status as never) ? row : undefined;
}

/**
 * Applies a confirmed change (the caller holds `change` locked, in flight). Returns the
 * change as stored. A change whose subscription ended meanwhile fails instead.
 */
export async function applyChange(db: Db, deps: ChangeDeps, change: ChangeRow, actor: Actor = SYSTEM_ACTOR): Promise<ChangeRow> {
  const locked = await lockSubscription(db, change);
  if (!locked) return failChange(db, deps, change, 'the subscription ended before the change was confirmed', actor);
  const now = await commerceNow(db, deps.clock, change.product_id);
  const resolvedAt = deps.clock.now();
  if (change.kind === 'reset') {
    // The usage windows restart now, on the commerce clock: `effective_at` of the latest applied reset.
    const applied = await repo.updateChange(db, change.id, {
      status: 'applied',
      effective_at: now,
      report_due_at: null,
      resolved_at: resolvedAt,
      updated_at: resolvedAt,
    });
    await audit(db, actor, applied, locked, locked);
    await changeEvent(db, 'subscription.plan_changed', applied, locked, now);
    await realignStoredWindows(db, deps.clock, change.product_id, change.tenant_id);
    return applied;
  }
  const to = await repo.findPriceTerms(db, change.to_price_id);
  if (!to) throw new Error(`price ${change.to_price_id} vanished under a change in flight`);
  // An immediate change applies to the period running now: first whatever renewal is due.
  const before = change.timing === 'now' ? await applyDue(db, locked, now) : locked;
  const state = stateOf(before);
  const cycle = cycleOfPrice({ cycle: to.cycle, customDays: to.custom_days });
  const cycleChanged = cycle?.unit !== state.cycle?.unit || cycle?.count !== state.cycle?.count;
  const nextNumber = (state.currentPeriodNumber ?? state.anchorNumber - 1) + 1;
  // A new cycle starts at the current period's end: the boundaries from there are the new cycle's.
  const anchor = cycleChanged && state.currentPeriodEnd ? { at: state.currentPeriodEnd, number: nextNumber } : undefined;

  let proration: ProrationLine[] = [];
  let invoiceId: string | null = null;
  if (change.timing === 'now') {
    proration = await prorationOf(db, change, before, to, now);
    invoiceId = proration.length ? await invoiceProration(db, change, before, proration, now) : null;
  }
  let subscription = await repo.updateSubscriptionPrice(
    db,
    before.id,
    {
      price_id: to.id,
      amount_minor: to.amount_minor,
      currency: to.currency,
      cycle_unit: cycle?.unit ?? null,
      cycle_count: cycle?.count ?? null,
      anchor_at: anchor?.at ?? before.anchor_at,
      anchor_number: anchor?.number ?? before.anchor_number,
    },
    now,
  );
  await mirrorTenantPlan(db, subscription.tenant_id, to.id);
  const applied = await repo.updateChange(db, change.id, {
    status: 'applied',
    // An immediate change is in force from the moment it applies (usage reads the plan in force by `effective_at`).
    ...(change.timing === 'now' ? { effective_at: now } : {}),
    // Plan history keeps the anchor a new cycle counts from: usage windows before it stay as they were.
    ...(anchor ? { anchor_at: anchor.at } : {}),
    report_due_at: null,
    resolved_at: resolvedAt,
    updated_at: resolvedAt,
    invoice_id: invoiceId,
    proration: proration.length
      ? JSON.stringify(
          proration.map((line) => ({ kind: line.kind, amount: line.amountMinor, days: line.days, periodDays: line.periodDays })),
        )
      : null,
  });
  await audit(db, actor, applied, before, subscription);
  await changeEvent(db, 'subscription.plan_changed', applied, subscription, now);
  // A period-end change held its boundary's renewal: the period opens now, once, on the new price.
  if (change.timing === 'period_end') subscription = await applyDue(db, subscription, now);
  // The usage windows counted from the old anchor end where the new one begins.
  if (anchor) await realignStoredWindows(db, deps.clock, change.product_id, change.tenant_id);
  return applied;
}

/** Fails a change (the caller holds it locked, in flight): the subscription stays as it was; a held renewal goes ahead. */
export async function failChange(
  db: Db,
  deps: ChangeDeps,
  change: ChangeRow,
  reason: string,
  actor: Actor = SYSTEM_ACTOR,
): Promise<ChangeRow> {
  const resolvedAt = deps.clock.now();
  const failed = await repo.updateChange(db, change.id, {
    status: 'failed',
    report_due_at: null,
    resolved_at: resolvedAt,
    updated_at: resolvedAt,
    failure_reason: JSON.stringify({ reason }),
  });
  const subscription = await lockSubscription(db, change);
  const now = await commerceNow(db, deps.clock, change.product_id);
  await audit(db, actor, failed, subscription, subscription);
  await changeEvent(db, 'subscription.plan_change_failed', failed, subscription, now);
  if (subscription && change.timing === 'period_end') await applyDue(db, subscription, now);
  return failed;
}

async function audit(db: Db, actor: Actor, change: ChangeRow, before: SubscriptionRow | undefined, after: SubscriptionRow | undefined) {
  await insertAuditRecord(db, actor, {
    action: `subscription.plan_change_${change.status}`,
    objectType: 'subscription',
    objectId: change.subscription_id,
    productId: change.product_id,
    tenantId: change.tenant_id,
    ...(before ? { before: subscriptionView(stateOf(before)) } : {}),
    ...(after ? { after: { ...subscriptionView(stateOf(after)), change: changeView(change) } } : {}),
  });
}

/**
 * The credit and charge of an immediate change in the period running now: none in a
 * trial (it charged nothing and charges nothing) or for a price paid once. The credit
 * is capped at what the period charged for the old price: its invoice, or the charge of
 * the earlier change in this period that moved onto it.
 */
export async function prorationOf(
  db: Db,
  change: Pick<ChangeRow, 'from_price_id'>,
  subscription: SubscriptionRow,
  to: { amount_minor: number; cycle: string; custom_days: number | null },
  now: Date,
): Promise<ProrationLine[]> {
  const state = stateOf(subscription);
  if (state.status === 'trialing' || !state.cycle || state.currentPeriodNumber === null) return [];
  if (!state.currentPeriodStart || !state.currentPeriodEnd) return [];
  const period = await repo.findPeriodCharge(db, subscription.id, state.currentPeriodNumber);
  if (!period || period.trial) return [];
  const earlier = await repo.findAppliedInto(db, subscription.id, change.from_price_id, state.currentPeriodNumber);
  const earlierCharge = (earlier?.proration as { kind: string; amount: number }[] | null)?.find((line) => line.kind === 'charge');
  const charged = earlier ? (earlierCharge?.amount ?? 0) : period.amount_minor;
  const toCycle = cycleOfPrice({ cycle: to.cycle, customDays: to.custom_days });
  const newPeriodDays = toCycle
    ? calendarDaysBetween(state.zone, state.currentPeriodStart, boundary(state.currentPeriodStart, toCycle, state.zone, 1))
    : undefined;
  return prorationLines({
    periodStart: state.currentPeriodStart,
    periodEnd: state.currentPeriodEnd,
    at: now,
    zone: state.zone,
    oldAmountMinor: state.amountMinor,
    newAmountMinor: to.amount_minor,
    chargedMinor: charged,
    ...(newPeriodDays ? { newPeriodDays } : {}),
  });
}

/** Bills proration lines on an invoice of their own, finalized at once (nothing owed when the credit covers the charge). */
async function invoiceProration(
  db: Db,
  change: ChangeRow,
  subscription: SubscriptionRow,
  lines: ProrationLine[],
  now: Date,
): Promise<string> {
  const invoice = await writeFinalizedInvoice(
    db,
    { productId: change.product_id, tenantId: change.tenant_id, subscriptionId: subscription.id, currency: subscription.currency, at: now },
    lines.map((line) => ({
      kind: 'proration',
      sourceKey: `proration:${change.id}:${line.kind}`,
      description: `${line.kind === 'credit' ? 'Unused time on the old price' : 'Remaining time on the new price'} (${line.days} of ${line.periodDays} days)`,
      quantity: '1',
      amountMinor: line.amountMinor,
      periodStart: line.start,
      periodEnd: line.end,
    })),
  );
  return invoice.id;
}
