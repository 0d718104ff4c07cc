/**
 * Subscriptions: create, read (with the actions the caller may take next), cancel (at period end or now),
 * withdraw a cancellation, toggle auto-renewal, extend or end a trial. Every change runs as of the product's
 * commerce clock, records its audit entry and its events in the route's transaction, and anything already due
 * (a start in the past, an ended trial) is applied at once through the same engine and writer as renewals.
 */
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { findPriceForProduct, type ProductPriceRow } from '../catalogue/prices.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import { toPage } from '../http/pagination.ts';
import { findHeldBoundaries } from '../plan-changes/plan-changes.repo.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { realignStoredWindows } from '../usage/reset-windows.ts';
import { type BillingSettings, findBillingSettings } from './billing-settings.ts';
import { boundary, cycleOfPrice } from './calendar.ts';
import { advanceSubscription } from './subscription-engine.ts';
import {
  LIVE_STATUSES,
  nextActionOf,
  type SubscriptionRow,
  type SubscriptionState,
  stateOf,
  subscriptionView,
} from './subscription-state.ts';
import * as repo from './subscriptions.repo.ts';
import { applyAdvances } from './subscriptions.writer.ts';

/** What subscription services need. */
export interface CommerceDeps {
  clock: Clock;
}

/** The actions a subscription read offers. */
export const SUBSCRIPTION_ACTIONS = ['cancel', 'cancel_now', 'withdraw_cancel', 'set_auto_renew', 'extend_trial', 'end_trial'] as const;
export type SubscriptionAction = (typeof SUBSCRIPTION_ACTIONS)[number];

const WRITERS = ['super_admin', 'product_admin', 'client'] as const;
const OPERATORS = ['super_admin', 'product_admin'] as const;

/** The actions `principal` may take on the subscription now. */
export function subscriptionActions(row: SubscriptionRow, principal: Principal): SubscriptionAction[] {
  if (!(WRITERS as readonly string[]).includes(principal.role) || !LIVE_STATUSES.includes(row.status as never)) return [];
  const actions: SubscriptionAction[] = ['cancel_now', 'set_auto_renew'];
  actions.unshift(row.cancel_at ? 'withdraw_cancel' : 'cancel');
  if (row.status === 'trialing' && (OPERATORS as readonly string[]).includes(principal.role)) actions.push('extend_trial', 'end_trial');
  return actions;
}

/** The subscription view with the caller's next actions. */
export function toSubscriptionView(row: SubscriptionRow & { price_name?: string | null }, principal: Principal) {
  return { ...subscriptionView(stateOf(row)), priceName: row.price_name ?? null, actions: subscriptionActions(row, principal) };
}

/** The request body of a new subscription. */
export interface SubscriptionCreateBody {
  price: string;
  startAt?: string;
  trialDays?: number;
  autoRenew?: boolean;
}

// A start this far in the past is refused: it would bill a long history nobody asked for by mistake.
const MAX_BACKDATE_MS = 24 * 60 * 60 * 1000;

/** Subscribes a tenant to a published price of its product; anything already due is applied at once. */
export async function createSubscription(db: Db, deps: CommerceDeps, caller: Caller, tenantRef: string, body: SubscriptionCreateBody) {
  requireRole(caller.principal, ...WRITERS);
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef, { lock: true });
  if (tenant.status === 'deleted') throw new AppError('tenant.deleted', { parameter: 'tenant' });
  const price = await findPriceForProduct(db, tenant.product_id, body.price);
  if (!price)
    throw new AppError('subscription.invalid_price', { message: `The product has no plan price "${body.price}"`, parameter: 'price' });
  if (!price.published || !price.plan_published) throw new AppError('price.not_published', { parameter: 'price' });
  const settings = await findBillingSettings(db, tenant.product_id);
  const now = new Date(deps.clock.now().getTime() + settings.clockOffsetMs);
  const startAt = body.startAt ? new Date(body.startAt) : now;
  if (Number.isNaN(startAt.getTime()) || startAt.getTime() < now.getTime() - MAX_BACKDATE_MS) {
    throw new AppError('request.invalid', { message: 'startAt may be at most 24 hours in the past', parameter: 'startAt' });
  }
  let row: SubscriptionRow;
  try {
    row = await repo.insertSubscription(
      db,
      newSubscriptionValues({ tenantId: tenant.id, price, settings, now, startAt, trialDays: body.trialDays, autoRenew: body.autoRenew }),
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('subscription.exists', { parameter: 'tenant' });
    throw error;
  }
  await repo.mirrorTenantPlan(db, tenant.id, price.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'subscription.create',
    objectType: 'subscription',
    objectId: row.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: subscriptionView(stateOf(row), price.name),
  });
  return applyDue(db, row, now);
}

/**
 * The row of a new (pending) subscription: the price's cycle, amount and currency and the product's zone as
 * they are now, the trial's end `trialDays` local days after the start and its notice the product's lead before.
 */
export function newSubscriptionValues(input: {
  tenantId: string;
  price: ProductPriceRow;
  settings: BillingSettings;
  now: Date;
  startAt: Date;
  trialDays?: number;
  autoRenew?: boolean;
}) {
  const { price, settings, startAt, now } = input;
  const trialDays = input.trialDays ?? price.trial_days;
  const trialEnd = trialDays > 0 ? boundary(startAt, { unit: 'day', count: trialDays }, settings.timeZone, 1) : null;
  const lead = settings.trialWillEndDays;
  const leadStart = trialEnd && lead > 0 ? boundary(trialEnd, { unit: 'day', count: lead }, settings.timeZone, -1) : null;
  // A trial shorter than the notice lead gets no notice: it would be dated before the trial began.
  const notice = leadStart && leadStart.getTime() > startAt.getTime() ? leadStart : null;
  const cycle = cycleOfPrice({ cycle: price.cycle, customDays: price.custom_days });
  return {
    id: newId(),
    product_id: price.product_id,
    tenant_id: input.tenantId,
    price_id: price.id,
    status: 'pending',
    cycle_unit: cycle?.unit ?? null,
    cycle_count: cycle?.count ?? null,
    amount_minor: price.amount_minor,
    currency: price.currency,
    time_zone: settings.timeZone,
    anchor_at: startAt,
    start_at: startAt,
    trial_end_at: trialEnd,
    trial_notice_at: notice,
    auto_renew: input.autoRenew ?? true,
    next_action_at: startAt,
    created_at: now,
    updated_at: now,
  };
}

/** Applies whatever is due for a locked (or just written) subscription as of `now`; returns the row as stored. */
export async function applyDue(db: Db, row: SubscriptionRow, now: Date): Promise<SubscriptionRow> {
  // A period-end plan change in flight holds its boundary's renewal until it resolves (ADR 0009).
  const held = (await findHeldBoundaries(db, [row.id])).get(row.id);
  const until = held && held.getTime() <= now.getTime() ? new Date(held.getTime() - 1) : now;
  const advance = advanceSubscription(stateOf(row), until);
  if (!advance) return row;
  await applyAdvances(db, [advance], now);
  const stored = await repo.findTenantSubscription(db, row.tenant_id);
  if (!stored) throw new Error('subscription vanished inside its own transaction');
  return stored;
}

/** The tenant's live subscription, or its latest one, with its price's name. */
export async function getSubscription(db: Db, principal: Principal, tenantRef: string) {
  const tenant = await getVisibleTenant(db, principal, tenantRef);
  const row = await repo.findTenantSubscription(db, tenant.id);
  if (!row) throw new AppError('subscription.not_found', { parameter: 'tenant' });
  const price = await findPriceForProduct(db, row.product_id, row.price_id);
  return { ...row, price_name: price?.name ?? null };
}

/**
 * Locks the tenant's live subscription (404 without any, 409 when it is final) and brings it up to now. The tenant
 * is locked first, as renewals and plan changes do (ADR 0009): bringing it up to now writes the tenant's events.
 */
async function lockLive(db: Db, deps: CommerceDeps, principal: Principal, tenantRef: string) {
  const tenant = await getVisibleTenant(db, principal, tenantRef, { lock: true });
  const locked = await repo.findTenantSubscription(db, tenant.id, { lock: true });
  if (!locked) throw new AppError('subscription.not_found', { parameter: 'tenant' });
  const settings = await findBillingSettings(db, tenant.product_id);
  const now = new Date(deps.clock.now().getTime() + settings.clockOffsetMs);
  // A change applies to the subscription as it is now: first everything due up to now (a renewal the sweep has not reached yet).
  const row = await applyDue(db, locked, now);
  if (!LIVE_STATUSES.includes(row.status as never)) throw new AppError('subscription.not_live', { parameter: 'tenant' });
  return { row, now, settings };
}

/** Stores a changed state with its audit entry and events; mirrors the tenant's plan when the subscription ended. */
async function save(
  db: Db,
  caller: Caller,
  before: SubscriptionRow,
  state: SubscriptionState,
  now: Date,
  action: string,
  events: string[],
) {
  state.nextActionAt = nextActionOf(state);
  const row = await repo.saveSubscriptionState(db, state, now);
  if (!LIVE_STATUSES.includes(state.status)) await repo.mirrorTenantPlan(db, row.tenant_id, null);
  const after = subscriptionView(stateOf(row));
  await insertAuditRecord(db, caller.actor, {
    action,
    objectType: 'subscription',
    objectId: row.id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    before: subscriptionView(stateOf(before)),
    after,
  });
  for (const type of events) {
    await recordEvent(db, { type, productId: row.product_id, tenantId: row.tenant_id, occurredAt: now, data: { subscription: after } });
  }
  return row;
}

/** Cancels at the end of the current period (the trial's end while trialing), or now. */
export async function cancelSubscription(db: Db, deps: CommerceDeps, caller: Caller, tenantRef: string, when: 'period_end' | 'now') {
  requireRole(caller.principal, ...WRITERS);
  const { row, now } = await lockLive(db, deps, caller.principal, tenantRef);
  const state = stateOf(row);
  const endOfTerm = state.status === 'trialing' ? state.trialEndAt : state.status === 'pending' ? null : state.currentPeriodEnd;
  if (when === 'now' || !endOfTerm) {
    Object.assign(state, { status: 'canceled', cancelAt: now, endedAt: now });
    return save(db, caller, row, state, now, 'subscription.cancel', ['subscription.canceled']);
  }
  if (state.cancelAt?.getTime() === endOfTerm.getTime()) return row;
  state.cancelAt = endOfTerm;
  return save(db, caller, row, state, now, 'subscription.schedule_cancel', ['subscription.cancel_scheduled']);
}

/** Withdraws a scheduled cancellation. */
export async function withdrawCancellation(db: Db, deps: CommerceDeps, caller: Caller, tenantRef: string) {
  requireRole(caller.principal, ...WRITERS);
  const { row, now } = await lockLive(db, deps, caller.principal, tenantRef);
  if (!row.cancel_at) throw new AppError('subscription.no_cancellation', { parameter: 'tenant' });
  const state = { ...stateOf(row), cancelAt: null };
  return save(db, caller, row, state, now, 'subscription.withdraw_cancel', ['subscription.updated']);
}

/** Turns auto-renewal on or off; off, the subscription expires at the end of its period. */
export async function setAutoRenew(db: Db, deps: CommerceDeps, caller: Caller, tenantRef: string, autoRenew: boolean) {
  requireRole(caller.principal, ...WRITERS);
  const { row, now } = await lockLive(db, deps, caller.principal, tenantRef);
  if (row.auto_renew === autoRenew) return row;
  const state = { ...stateOf(row), autoRenew };
  return save(db, caller, row, state, now, 'subscription.set_auto_renew', ['subscription.updated']);
}

/** Moves a trial's end (operators): later to extend it, or now to end it (the first paid period opens at once). */
export async function changeTrialEnd(db: Db, deps: CommerceDeps, caller: Caller, tenantRef: string, endsAt: Date | 'now') {
  requireRole(caller.principal, ...OPERATORS);
  const { row, now, settings } = await lockLive(db, deps, caller.principal, tenantRef);
  if (row.status !== 'trialing') throw new AppError('subscription.not_trialing', { parameter: 'tenant' });
  const end = endsAt === 'now' ? now : endsAt;
  if (end.getTime() < now.getTime())
    throw new AppError('request.invalid', { message: 'endsAt must not be in the past', parameter: 'endsAt' });
  if (row.current_period_start && end.getTime() <= row.current_period_start.getTime())
    throw new AppError('request.invalid', { message: 'A trial cannot end before it started', parameter: 'endsAt' });
  const state = stateOf(row);
  state.trialEndAt = end;
  state.currentPeriodEnd = end;
  state.trialNoticeAt =
    settings.trialWillEndDays > 0 ? boundary(end, { unit: 'day', count: settings.trialWillEndDays }, settings.timeZone, -1) : null;
  // A notice whose time has passed is not sent late for a trial that is being moved now.
  state.trialNoticeSent = !(state.trialNoticeAt && state.trialNoticeAt.getTime() > now.getTime());
  if (cancelsAtTrialEnd(row)) state.cancelAt = end;
  await db
    .updateTable('subscription_periods')
    .set({ end_at: end })
    .where('subscription_id', '=', row.id)
    .where('number', '=', row.current_period_number ?? 0)
    .execute();
  const saved = await save(db, caller, row, state, now, endsAt === 'now' ? 'subscription.end_trial' : 'subscription.extend_trial', [
    'subscription.updated',
  ]);
  const applied = await applyDue(db, saved, now);
  // The trial's end is where the anchor moves: the usage windows of the trial end there now.
  await realignStoredWindows(db, deps.clock, row.product_id, row.tenant_id);
  return applied;
}

function cancelsAtTrialEnd(row: SubscriptionRow): boolean {
  return row.cancel_at !== null && row.trial_end_at !== null && row.cancel_at.getTime() === row.trial_end_at.getTime();
}

/** One page of the tenant's current subscription's periods, by number. */
export async function listPeriods(db: Db, principal: Principal, tenantRef: string, afterNumber: number | undefined, limit: number) {
  const tenant = await getVisibleTenant(db, principal, tenantRef);
  const row = await repo.findTenantSubscription(db, tenant.id);
  if (!row) throw new AppError('subscription.not_found', { parameter: 'tenant' });
  return toPage(await repo.findPeriods(db, row.id, afterNumber, limit), limit, (period) => period.number);
}
