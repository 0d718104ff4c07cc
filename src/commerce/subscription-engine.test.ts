import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundary, CYCLE_UNITS, type Cycle } from './calendar.ts';
import { type Advance, advanceSubscription } from './subscription-engine.ts';
import type { SubscriptionState } from './subscription-state.ts';

const ZONES = ['UTC', 'Australia/Adelaide', 'America/New_York', 'Pacific/Chatham'] as const;
const DAY = 86_400_000;

function subscription(start: Date, cycle: Cycle, zone: string, trialDays: number, autoRenew = true): SubscriptionState {
  const trialEnd = trialDays > 0 ? boundary(start, { unit: 'day', count: trialDays }, zone, 1) : null;
  return {
    id: 'sub',
    productId: 'product',
    tenantId: 'tenant',
    priceId: 'price',
    status: 'pending',
    cycle,
    amountMinor: 1000,
    currency: 'EUR',
    zone,
    anchorAt: start,
    anchorNumber: 0,
    startAt: start,
    trialEndAt: trialEnd,
    trialNoticeAt: trialEnd ? new Date(trialEnd.getTime() - DAY) : null,
    trialNoticeSent: false,
    autoRenew,
    cancelAt: null,
    endedAt: null,
    currentPeriodNumber: null,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    nextActionAt: start,
    version: 1,
    createdAt: start,
  };
}

/** Advances step by step through `instants`, as sweeps at those times would. */
function advanceThrough(state: SubscriptionState, instants: Date[]): { state: SubscriptionState; steps: Advance[] } {
  const steps: Advance[] = [];
  let current = state;
  for (const instant of instants) {
    const advance = advanceSubscription(current, instant);
    if (advance) {
      steps.push(advance);
      current = { ...advance.state, version: current.version + 1 };
    }
  }
  return { state: current, steps };
}

const periodsOf = (steps: Advance[]) =>
  steps.flatMap((s) => s.periods.map((p) => [p.number, p.startAt.getTime(), p.endAt?.getTime(), p.trial]));
const typesOf = (steps: Advance[]) => steps.flatMap((s) => s.events.map((e) => e.type));

const arb = fc.record({
  start: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }).map((ms) => new Date(ms)),
  cycle: fc.record({ unit: fc.constantFrom(...CYCLE_UNITS), count: fc.integer({ min: 1, max: 3 }) }),
  zone: fc.constantFrom(...ZONES),
  trialDays: fc.constantFrom(0, 0, 7, 30),
  horizonDays: fc.integer({ min: 0, max: 800 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
});

describe('the subscription engine', () => {
  it('catching up at once equals sweeping at any instants in between: same periods, invoices and events, in order', () => {
    fc.assert(
      fc.property(arb, ({ start, cycle, zone, trialDays, horizonDays, cuts }) => {
        const sub = subscription(start, cycle, zone, trialDays);
        const end = new Date(start.getTime() + horizonDays * DAY);
        const between = cuts.map((f) => new Date(start.getTime() + f * horizonDays * DAY)).sort((a, b) => a.getTime() - b.getTime());
        // A subscription years behind catches up over several calls (at most 400 steps each).
        const once = advanceThrough(sub, [end, end, end, end]);
        const stepped = advanceThrough(sub, [...between, end, end, end, end]);
        expect(periodsOf(stepped.steps)).toEqual(periodsOf(once.steps));
        expect(typesOf(stepped.steps)).toEqual(typesOf(once.steps));
        expect(stepped.state.currentPeriodNumber).toBe(once.state.currentPeriodNumber);
        expect(stepped.state.nextActionAt?.getTime()).toBe(once.state.nextActionAt?.getTime());
      }),
      { numRuns: 200 },
    );
  });

  it('opens periods that tile time from the start (or the trial’s end), one invoice per paid period, events dated in order', () => {
    fc.assert(
      fc.property(arb, ({ start, cycle, zone, trialDays, horizonDays }) => {
        const sub = subscription(start, cycle, zone, trialDays);
        const end = new Date(start.getTime() + horizonDays * DAY);
        const { steps, state } = advanceThrough(sub, [end, end, end, end]);
        const periods = steps.flatMap((s) => s.periods);
        expect(periods[0]?.startAt.getTime()).toBe(start.getTime());
        periods.forEach((period, index) => {
          expect(period.number).toBe(index);
          if (index > 0) expect(period.startAt.getTime()).toBe(periods[index - 1]?.endAt?.getTime());
          expect(period.startAt.getTime()).toBeLessThanOrEqual(end.getTime());
        });
        // The current period contains the horizon: nothing due is left behind.
        expect(state.currentPeriodEnd?.getTime()).toBeGreaterThan(end.getTime());
        expect(state.nextActionAt?.getTime()).toBeGreaterThan(end.getTime());
        const invoices = steps.flatMap((s) => s.invoices);
        expect(invoices.map((i) => i.periodId)).toEqual(periods.filter((p) => !p.trial).map((p) => p.id));
        const dates = steps.flatMap((s) => s.events.map((e) => e.at.getTime()));
        expect([...dates].sort((a, b) => a - b)).toEqual(dates);
        if (trialDays > 0 && periods.length > 1) {
          expect(periods[0]?.trial).toBe(true);
          expect(state.anchorAt.getTime()).toBe(periods[0]?.endAt?.getTime());
          expect(typesOf(steps).filter((t) => t === 'subscription.trial_will_end')).toHaveLength(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('expires at the end of the period without auto-renewal, and is never advanced again', () => {
    const start = new Date('2024-01-31T10:00:00.000Z');
    const sub = subscription(start, { unit: 'month', count: 1 }, 'UTC', 0, false);
    const { state, steps } = advanceThrough(sub, [new Date('2024-06-01T00:00:00.000Z')]);
    expect(state).toMatchObject({ status: 'expired', endedAt: new Date('2024-02-29T10:00:00.000Z'), nextActionAt: null });
    expect(periodsOf(steps)).toHaveLength(1);
    expect(advanceSubscription(state, new Date('2030-01-01T00:00:00.000Z'))).toBeNull();
  });

  it('does nothing at 1 ms before a boundary and renews at the boundary', () => {
    const start = new Date('2024-01-31T10:00:00.000Z');
    const first = advanceThrough(subscription(start, { unit: 'month', count: 1 }, 'UTC', 0), [start]).state;
    const edge = new Date('2024-02-29T10:00:00.000Z').getTime();
    expect(advanceSubscription(first, new Date(edge - 1))).toBeNull();
    expect(advanceSubscription(first, new Date(edge))?.periods.map((p) => p.number)).toEqual([1]);
  });
});
