/**
 * Plan changes: ask for one (or preview it), read them, and take the backend's report.
 * A change takes effect only when the product's backend confirms it: asking writes the
 * change and, for an immediate one, the call to the backend in the same transaction; a
 * period-end change is called for when its boundary comes (`plan-changes.sweep.ts`).
 */
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { enqueueCall, firstAttempt } from '../backend-calls/call-kind.ts';
import { findPriceForProduct } from '../catalogue/prices.repo.ts';
import { commerceNow } from '../commerce/billing-settings.ts';
import { advanceSubscription } from '../commerce/subscription-engine.ts';
import { LIVE_STATUSES, type SubscriptionRow, stateOf, subscriptionView } from '../commerce/subscription-state.ts';
import { findTenantSubscription } from '../commerce/subscriptions.repo.ts';
import { applyDue } from '../commerce/subscriptions.service.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { toPage } from '../http/pagination.ts';
import { isUuid, newId } from '../platform/ids.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { type ChangeKind, type ChangeTiming, directionOf, sameCycle, timingOf } from './change-rules.ts';
import { type ChangeDeps, changeRequested, prorationOf } from './plan-changes.effects.ts';
import * as repo from './plan-changes.repo.ts';

const WRITERS = ['super_admin', 'product_admin', 'client'] as const;

/** What a caller asks for: another price, or a reset of the usage windows. */
export interface ChangeRequestBody {
  price?: string;
  reset?: boolean;
  timing?: ChangeTiming;
  reason?: string;
}

/** A change worked out and checked, not written. */
interface PlannedChange {
  subscription: SubscriptionRow;
  kind: ChangeKind;
  timing: ChangeTiming;
  fromPriceId: string;
  to: { id: string; amount_minor: number; currency: string; cycle: string; custom_days: number | null };
  effectiveAt: Date;
  now: Date;
}

/**
 * Works a change out for the tenant's live subscription and checks it: the target must
 * be a published price of the product, in the subscription's currency, renewing (not
 * paid once), not the current one; nothing else may be in flight; the product must have
 * the backend URL for the change; a client may not make a downgrade immediate. With
 * `write`, the subscription is locked and brought up to now first (a renewal that was
 * due); otherwise that is worked out in memory.
 */
async function planChange(db: Db, deps: ChangeDeps, caller: Caller, tenantRef: string, body: ChangeRequestBody, write: boolean) {
  requireRole(caller.principal, ...WRITERS);
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef, { lock: write });
  const stored = await findTenantSubscription(db, tenant.id, { lock: write });
  if (!stored) throw new AppError('subscription.not_found', { parameter: 'tenant' });
  if (!LIVE_STATUSES.includes(stored.status as never)) throw new AppError('subscription.not_live', { parameter: 'tenant' });
  const inFlight = await repo.findChangeInFlight(db, stored.id);
  if (inFlight) {
    throw new AppError('plan_change.in_flight', {
      message: `The subscription's ${inFlight.kind} ${inFlight.id} is ${inFlight.status}; ask again once it is resolved`,
      parameter: 'tenant',
    });
  }
  const now = await commerceNow(db, deps.clock, tenant.product_id);
  const subscription = write ? await applyDue(db, stored, now) : { ...stored, ...inMemory(stored, now) };
  const state = stateOf(subscription);
  if (state.status === 'pending') throw new AppError('plan_change.not_started', { parameter: 'tenant' });
  if (!LIVE_STATUSES.includes(state.status)) throw new AppError('subscription.not_live', { parameter: 'tenant' });

  const current = await findPriceForProduct(db, tenant.product_id, state.priceId);
  if (!current) throw new Error(`the subscription's price ${state.priceId} vanished`);
  let to = current;
  if (!body.reset) {
    if (!body.price)
      throw new AppError('request.invalid', { message: 'Name the price to change to, or ask for a reset', parameter: 'price' });
    const found = await findPriceForProduct(db, tenant.product_id, body.price);
    if (!found?.published || !found.plan_published) {
      throw new AppError('plan_change.invalid_price', {
        message: `The product has no published plan price "${body.price}"`,
        parameter: 'price',
      });
    }
    if (found.id === current.id) throw new AppError('plan_change.same_price', { parameter: 'price' });
    if (found.currency !== state.currency) {
      throw new AppError('plan_change.currency_mismatch', {
        message: `The price is in ${found.currency}; the subscription bills in ${state.currency}`,
        parameter: 'price',
      });
    }
    if (found.cycle === 'unlimited' || current.cycle === 'unlimited')
      throw new AppError('plan_change.cycle_not_supported', { parameter: 'price' });
    to = found;
  }
  const terms = (price: typeof current) => ({ cycle: price.cycle, customDays: price.custom_days, amountMinor: price.amount_minor });
  const kind: ChangeKind = body.reset ? 'reset' : directionOf(terms(current), terms(to));
  const timing = timingOf(
    kind,
    !sameCycle(terms(current), terms(to)),
    body.timing,
    caller.principal.role === 'client' ? 'client' : 'operator',
  );
  if (timing !== 'now' && timing !== 'period_end') {
    throw new AppError('auth.forbidden', { message: "A product's client may not make a downgrade take effect now", parameter: 'timing' });
  }
  const effectiveAt = timing === 'now' ? now : state.currentPeriodEnd;
  if (!effectiveAt) throw new AppError('plan_change.cycle_not_supported', { parameter: 'price' });
  if (timing === 'period_end' && state.cancelAt && state.cancelAt <= effectiveAt)
    throw new AppError('plan_change.cancel_scheduled', { parameter: 'timing' });
  const product = await db.selectFrom('products').select('webhooks').where('id', '=', tenant.product_id).executeTakeFirstOrThrow();
  if (!product.webhooks[kind]) {
    throw new AppError('plan_change.backend_url_missing', {
      message: `The product has no ${kind} URL (webhooks.${kind}) to confirm the change with`,
      parameter: `webhooks.${kind}`,
    });
  }
  return { subscription, kind, timing, fromPriceId: current.id, to, effectiveAt, now } satisfies PlannedChange;
}

/** The subscription as it is at `now` once whatever is due is applied (for a preview, which writes nothing). */
function inMemory(row: SubscriptionRow, now: Date): Partial<SubscriptionRow> {
  const state = advanceSubscription(stateOf(row), now)?.state;
  if (!state) return {};
  return {
    status: state.status,
    anchor_at: state.anchorAt,
    anchor_number: state.anchorNumber,
    current_period_number: state.currentPeriodNumber,
    current_period_start: state.currentPeriodStart,
    current_period_end: state.currentPeriodEnd,
  };
}

/** Asks for a plan change: written with its event, audit record and (immediate ones) the call to the backend. */
export async function requestChange(db: Db, deps: ChangeDeps, caller: Caller, tenantRef: string, body: ChangeRequestBody) {
  const plan = await planChange(db, deps, caller, tenantRef, body, true);
  const at = deps.clock.now();
  let change: repo.ChangeRow;
  try {
    change = await repo.insertChange(db, {
      id: newId(),
      subscription_id: plan.subscription.id,
      product_id: plan.subscription.product_id,
      tenant_id: plan.subscription.tenant_id,
      kind: plan.kind,
      timing: plan.timing,
      from_price_id: plan.fromPriceId,
      to_price_id: plan.to.id,
      status: plan.timing === 'now' ? 'calling' : 'scheduled',
      effective_at: plan.effectiveAt,
      period_number: plan.subscription.current_period_number,
      reason: body.reason ?? null,
      requested_by_type: caller.actor.type,
      requested_by_id: caller.actor.id,
      created_at: at,
      updated_at: at,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('plan_change.in_flight', { parameter: 'tenant' });
    throw error;
  }
  if (change.status === 'calling') await enqueueCall(db, firstAttempt(change.kind, change.tenant_id, change.id));
  await insertAuditRecord(db, caller.actor, {
    action: 'subscription.request_plan_change',
    objectType: 'subscription',
    objectId: plan.subscription.id,
    productId: plan.subscription.product_id,
    tenantId: plan.subscription.tenant_id,
    after: { ...subscriptionView(stateOf(plan.subscription)), changeId: change.id },
  });
  await changeRequested(db, change, plan.subscription, plan.now);
  return change;
}

/** What a change would do, written nowhere: its kind, timing, and for an immediate change the proration lines. */
export async function previewChange(db: Db, deps: ChangeDeps, caller: Caller, tenantRef: string, body: ChangeRequestBody) {
  const plan = await planChange(db, deps, caller, tenantRef, body, false);
  const lines =
    plan.timing === 'now' && plan.kind !== 'reset'
      ? await prorationOf(db, { from_price_id: plan.fromPriceId }, plan.subscription, plan.to, plan.now)
      : [];
  return {
    kind: plan.kind,
    timing: plan.timing,
    effectiveAt: plan.effectiveAt.toISOString(),
    fromPriceId: plan.fromPriceId,
    toPriceId: plan.to.id,
    currency: plan.subscription.currency,
    lines: lines.map((line) => ({
      kind: line.kind,
      amount: line.amountMinor,
      days: line.days,
      periodDays: line.periodDays,
      start: line.start.toISOString(),
      end: line.end.toISOString(),
    })),
    total: lines.reduce((sum, line) => sum + line.amountMinor, 0),
  };
}

/** The tenant's subscription (live or latest) the caller may see, or 404. */
async function visibleSubscription(db: Db, principal: Principal, tenantRef: string) {
  const tenant = await getVisibleTenant(db, principal, tenantRef);
  const subscription = await findTenantSubscription(db, tenant.id);
  if (!subscription) throw new AppError('subscription.not_found', { parameter: 'tenant' });
  return subscription;
}

/** One page of the tenant's subscription's changes, newest first. */
export async function listChanges(db: Db, principal: Principal, tenantRef: string, beforeId: string | undefined, limit: number) {
  const subscription = await visibleSubscription(db, principal, tenantRef);
  return toPage(await repo.findChanges(db, subscription.id, beforeId, limit), limit, (row) => row.id);
}

/** One change of the tenant's (404 for another tenant's, or another product's). */
export async function getChange(db: Db, principal: Principal, tenantRef: string, changeId: string, options: { lock?: boolean } = {}) {
  const tenant = await getVisibleTenant(db, principal, tenantRef, options);
  const change = isUuid(changeId) ? await repo.findChange(db, changeId, options) : undefined;
  if (!change || change.tenant_id !== tenant.id) throw new AppError('plan_change.not_found', { parameter: 'change' });
  return change;
}
