/**
 * What time does to a subscription, as a pure function: given its state and "now" (the product's commerce
 * clock), every step due — start, trial notice, trial end, each missed renewal in order, cancellation at period
 * end, expiry — with the periods, invoices and events each step makes, each dated at its own boundary.
 * The writer (`subscriptions.writer.ts`) stores the result; unique keys make a second application impossible.
 */
import { newId } from '../platform/ids.ts';
import { boundary } from './calendar.ts';
import { nextActionOf, type SubscriptionState, subscriptionView } from './subscription-state.ts';

/** A period to insert. */
export interface NewPeriod {
  id: string;
  subscriptionId: string;
  productId: string;
  tenantId: string;
  number: number;
  startAt: Date;
  endAt: Date | null;
  priceId: string;
  amountMinor: number;
  currency: string;
  trial: boolean;
}

/** A period's invoice to insert, finalized at the period start (numbered by the writer), with its one line. */
export interface NewPeriodInvoice {
  id: string;
  lineId: string;
  productId: string;
  tenantId: string;
  subscriptionId: string;
  periodId: string;
  currency: string;
  totalMinor: number;
  at: Date;
  description: string;
  periodStart: Date;
  periodEnd: Date | null;
}

/** An event about the subscription's tenant; `invoiceId` asks the writer to fill in the invoice number. */
export interface EngineEvent {
  type: string;
  at: Date;
  data: Record<string, unknown>;
  invoiceId?: string;
}

/** Everything due for one subscription up to now. */
export interface Advance {
  before: SubscriptionState;
  state: SubscriptionState;
  periods: NewPeriod[];
  invoices: NewPeriodInvoice[];
  events: EngineEvent[];
}

/** At most this many steps per call: a subscription years behind catches up over several sweeps. */
const MAX_STEPS = 400;

/** The start of period `number` (counted from the anchor). */
function periodStart(state: SubscriptionState, number: number): Date {
  if (!state.cycle) return state.anchorAt;
  return boundary(state.anchorAt, state.cycle, state.zone, number - state.anchorNumber);
}

/** The end of period `number`, or null for a price that never renews. */
function periodEnd(state: SubscriptionState, number: number): Date | null {
  if (!state.cycle) return null;
  return boundary(state.anchorAt, state.cycle, state.zone, number - state.anchorNumber + 1);
}

/**
 * Every step due for `before` by `now`, in order. Returns null when nothing is due.
 */
export function advanceSubscription(before: SubscriptionState, now: Date): Advance | null {
  const state: SubscriptionState = { ...before };
  const out: Advance = { before, state, periods: [], invoices: [], events: [] };
  const emit = (type: string, at: Date, extra: Record<string, unknown> = {}) =>
    out.events.push({ type, at, data: { subscription: subscriptionView(state), ...extra } });

  const openPeriod = (number: number, trial: boolean, start: Date, end: Date | null) => {
    const period: NewPeriod = {
      id: newId(),
      subscriptionId: state.id,
      productId: state.productId,
      tenantId: state.tenantId,
      number,
      startAt: start,
      endAt: end,
      priceId: state.priceId,
      amountMinor: trial ? 0 : state.amountMinor,
      currency: state.currency,
      trial,
    };
    out.periods.push(period);
    state.currentPeriodNumber = number;
    state.currentPeriodStart = start;
    state.currentPeriodEnd = end;
    if (trial) return { period, invoice: undefined };
    const invoice: NewPeriodInvoice = {
      id: newId(),
      lineId: newId(),
      productId: state.productId,
      tenantId: state.tenantId,
      subscriptionId: state.id,
      periodId: period.id,
      currency: state.currency,
      totalMinor: period.amountMinor,
      at: start,
      description: `Subscription period ${number}`,
      periodStart: start,
      periodEnd: end,
    };
    out.invoices.push(invoice);
    return { period, invoice };
  };

  const periodView = (p: NewPeriod) => ({
    number: p.number,
    start: p.startAt.toISOString(),
    end: p.endAt?.toISOString() ?? null,
    amount: p.amountMinor,
    currency: p.currency,
    trial: p.trial,
  });
  const invoiceView = (i: NewPeriodInvoice) => ({
    id: i.id,
    number: null,
    status: i.totalMinor === 0 ? 'paid' : 'open',
    subscriptionId: i.subscriptionId,
    periodId: i.periodId,
    total: i.totalMinor,
    currency: i.currency,
    finalizedAt: i.at.toISOString(),
  });
  // A period's invoice is finalized as it is created, and tells both, in that order (as every other invoice does:
  // a consumer of `invoice.created` sees them all), plus `invoice.paid` when there is nothing to pay. The writer
  // fills in the number and `billedTo`.
  const invoiceEvents = (invoice: NewPeriodInvoice | undefined) => {
    if (!invoice) return;
    const data = { invoice: invoiceView(invoice) };
    out.events.push({ type: 'invoice.created', at: invoice.at, data, invoiceId: invoice.id });
    out.events.push({ type: 'invoice.finalized', at: invoice.at, data, invoiceId: invoice.id });
    if (invoice.totalMinor === 0) out.events.push({ type: 'invoice.paid', at: invoice.at, data, invoiceId: invoice.id });
  };
  const end = (status: 'canceled' | 'expired', at: Date) => {
    state.status = status;
    state.endedAt = at;
    emit(`subscription.${status}`, at);
  };

  for (let step = 0; step < MAX_STEPS; step += 1) {
    const t = now.getTime();
    if (state.status === 'pending') {
      if (state.startAt.getTime() > t) break;
      if (state.trialEndAt) {
        state.status = 'trialing';
        const { period } = openPeriod(state.anchorNumber, true, state.startAt, state.trialEndAt);
        emit('subscription.activated', state.startAt, { period: periodView(period) });
      } else {
        state.status = 'active';
        const { period, invoice } = openPeriod(state.anchorNumber, false, state.startAt, periodEnd(state, state.anchorNumber));
        emit('subscription.activated', state.startAt, { period: periodView(period) });
        invoiceEvents(invoice);
      }
    } else if (state.status === 'trialing') {
      const trialEnd = state.trialEndAt ?? state.startAt;
      const notice = state.trialNoticeAt;
      if (!state.trialNoticeSent && notice && notice < trialEnd && notice.getTime() <= t) {
        state.trialNoticeSent = true;
        emit('subscription.trial_will_end', notice, { trialEndAt: trialEnd.toISOString() });
        continue;
      }
      if (trialEnd.getTime() > t) break;
      state.trialNoticeSent = true;
      emit('subscription.trial_ended', trialEnd);
      if (state.cancelAt && state.cancelAt <= trialEnd) end('canceled', state.cancelAt);
      else if (!state.autoRenew) end('expired', trialEnd);
      else {
        // The first paid period starts at the trial's end, and the anchor moves there (as Stripe does).
        const number = (state.currentPeriodNumber ?? 0) + 1;
        state.anchorAt = trialEnd;
        state.anchorNumber = number;
        state.status = 'active';
        const { period, invoice } = openPeriod(number, false, trialEnd, periodEnd(state, number));
        emit('subscription.renewed', trialEnd, { period: periodView(period) });
        invoiceEvents(invoice);
      }
    } else if (state.status === 'active' || state.status === 'past_due') {
      const currentEnd = state.currentPeriodEnd;
      if (!currentEnd || currentEnd.getTime() > t) break;
      if (state.cancelAt && state.cancelAt <= currentEnd) end('canceled', state.cancelAt);
      else if (!state.autoRenew) end('expired', currentEnd);
      else {
        const number = (state.currentPeriodNumber ?? 0) + 1;
        const start = periodStart(state, number);
        const { period, invoice } = openPeriod(number, false, start, periodEnd(state, number));
        emit('subscription.renewed', start, { period: periodView(period) });
        invoiceEvents(invoice);
      }
    } else break;
  }
  state.nextActionAt = nextActionOf(state);
  if (out.events.length === 0) return null;
  // Events carry the subscription as it was after its own step; the stored row is the last state.
  return out;
}
