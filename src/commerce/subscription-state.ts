import type { Selectable } from 'kysely';
import type { SubscriptionsTable } from '../db/schema.ts';
import type { Cycle, CycleUnit } from './calendar.ts';

/** Subscription statuses; the first four are live (at most one per tenant), the last two final. */
export const SUBSCRIPTION_STATUSES = ['pending', 'trialing', 'active', 'past_due', 'canceled', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
/** The statuses in which a subscription is live. */
export const LIVE_STATUSES: readonly SubscriptionStatus[] = ['pending', 'trialing', 'active', 'past_due'];

/** A subscription row as the engine and the views read it. */
export type SubscriptionRow = Selectable<SubscriptionsTable>;

/** A subscription as the engine works on it: the row's fields that change over time, in camel case. */
export interface SubscriptionState {
  id: string;
  productId: string;
  tenantId: string;
  priceId: string;
  status: SubscriptionStatus;
  cycle: Cycle | null;
  amountMinor: number;
  currency: string;
  zone: string;
  anchorAt: Date;
  anchorNumber: number;
  startAt: Date;
  trialEndAt: Date | null;
  trialNoticeAt: Date | null;
  trialNoticeSent: boolean;
  autoRenew: boolean;
  cancelAt: Date | null;
  endedAt: Date | null;
  currentPeriodNumber: number | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  nextActionAt: Date | null;
  version: number;
  createdAt: Date;
}

/** The engine's state of a stored row. */
export function stateOf(row: SubscriptionRow): SubscriptionState {
  return {
    id: row.id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    priceId: row.price_id,
    status: row.status as SubscriptionStatus,
    cycle: row.cycle_unit ? { unit: row.cycle_unit as CycleUnit, count: row.cycle_count ?? 1 } : null,
    amountMinor: row.amount_minor,
    currency: row.currency,
    zone: row.time_zone,
    anchorAt: row.anchor_at,
    anchorNumber: row.anchor_number,
    startAt: row.start_at,
    trialEndAt: row.trial_end_at,
    trialNoticeAt: row.trial_notice_at,
    trialNoticeSent: row.trial_notice_sent,
    autoRenew: row.auto_renew,
    cancelAt: row.cancel_at,
    endedAt: row.ended_at,
    currentPeriodNumber: row.current_period_number,
    currentPeriodStart: row.current_period_start,
    currentPeriodEnd: row.current_period_end,
    nextActionAt: row.next_action_at,
    version: row.version,
    createdAt: row.created_at,
  };
}

/** When the renewals sweep must look at a subscription next (null: never again). */
export function nextActionOf(state: SubscriptionState): Date | null {
  switch (state.status) {
    case 'pending':
      return state.startAt;
    case 'trialing': {
      const notice = !state.trialNoticeSent && state.trialNoticeAt && state.trialEndAt && state.trialNoticeAt < state.trialEndAt;
      return notice ? state.trialNoticeAt : state.trialEndAt;
    }
    case 'active':
    case 'past_due':
      return state.currentPeriodEnd;
    default:
      return null;
  }
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The subscription as the API shows it (and as events carry it). */
export function subscriptionView(state: SubscriptionState, priceName?: string | null) {
  return {
    id: state.id,
    productId: state.productId,
    tenantId: state.tenantId,
    priceId: state.priceId,
    ...(priceName !== undefined ? { priceName } : {}),
    status: state.status,
    cycle: state.cycle,
    amount: state.amountMinor,
    currency: state.currency,
    timeZone: state.zone,
    anchorAt: state.anchorAt.toISOString(),
    startAt: state.startAt.toISOString(),
    trialEndAt: iso(state.trialEndAt),
    autoRenew: state.autoRenew,
    cancelAt: iso(state.cancelAt),
    endedAt: iso(state.endedAt),
    currentPeriod:
      state.currentPeriodNumber === null || !state.currentPeriodStart
        ? null
        : { number: state.currentPeriodNumber, start: state.currentPeriodStart.toISOString(), end: iso(state.currentPeriodEnd) },
    nextActionAt: iso(state.nextActionAt),
    version: state.version,
    createdAt: state.createdAt.toISOString(),
  };
}
export type SubscriptionView = ReturnType<typeof subscriptionView>;
