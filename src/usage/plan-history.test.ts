import { describe, expect, it } from 'vitest';
import { type AppliedChangeRow, splitByChanges } from './plan-history.ts';
import { type SubscriptionSpan, spanAt } from './usage-context.ts';
import { windowAt } from './windows.ts';

const at = (iso: string, deltaMs = 0) => new Date(new Date(iso).getTime() + deltaMs);
const subscription: SubscriptionSpan = {
  id: 's',
  planId: 'pro',
  planName: 'Pro',
  anchors: [at('2026-01-01T00:00:00Z')],
  start: at('2026-01-01T00:00:00Z'),
  end: null,
  zone: 'UTC',
  currency: 'EUR',
  segment: { start: at('2026-01-01T00:00:00Z'), end: null },
  resetAt: null,
  nextResetAt: null,
};
const change = (kind: string, iso: string, from: string, to: string): AppliedChangeRow => ({
  subscription_id: 's',
  kind,
  effective_at: iso,
  from_plan_id: from,
  from_plan_name: from,
  to_plan_id: to,
  to_plan_name: to,
  anchor_at: null,
});
const iso = (window: { start: Date; end: Date | null }) => [window.start.toISOString(), window.end?.toISOString() ?? null];

describe('plan history: the plan in force and windows cut by a reset', () => {
  // Basic until Jan 10 12:00, Pro from then (an upgrade), reset on Jan 20, downgraded to Basic at Feb 1 (period end).
  const pieces = splitByChanges(subscription, [
    change('upgrade', '2026-01-10T12:00:00Z', 'basic', 'pro'),
    change('reset', '2026-01-20T00:00:00Z', 'pro', 'pro'),
    change('downgrade', '2026-02-01T00:00:00Z', 'pro', 'basic'),
  ]);
  const planAt = (iso: string, delta = 0) => spanAt(pieces, at(iso, delta))?.planId;

  it('applies the plan each change left the subscription on, at −1 ms, 0 and +1 ms of each change', () => {
    expect(planAt('2026-01-01T00:00:00Z')).toBe('basic');
    expect(planAt('2026-01-10T12:00:00Z', -1)).toBe('basic');
    expect(planAt('2026-01-10T12:00:00Z')).toBe('pro');
    expect(planAt('2026-01-20T00:00:00Z', 1)).toBe('pro');
    expect(planAt('2026-02-01T00:00:00Z', -1)).toBe('pro');
    expect(planAt('2026-02-01T00:00:00Z')).toBe('basic');
    expect(planAt('2027-01-01T00:00:00Z')).toBe('basic');
    expect(planAt('2025-12-31T23:59:59.999Z')).toBeUndefined();
  });

  it('a reset ends the windows it falls in and starts new ones, `never` included; other changes cut nothing', () => {
    const window = (reset: string, when: string, delta = 0) => {
      const instant = at(when, delta);
      return iso(windowAt(reset, 'UTC', spanAt(pieces, instant) as SubscriptionSpan, instant));
    };
    expect(window('never', '2026-01-20T00:00:00Z', -1)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-20T00:00:00.000Z']);
    expect(window('never', '2026-01-20T00:00:00Z')).toEqual(['2026-01-20T00:00:00.000Z', null]);
    expect(window('never', '2026-03-01T00:00:00Z')).toEqual(['2026-01-20T00:00:00.000Z', null]);
    expect(window('month', '2026-01-20T00:00:00Z', -1)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-20T00:00:00.000Z']);
    expect(window('month', '2026-01-20T00:00:00Z')).toEqual(['2026-01-20T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    expect(window('month', '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    // The upgrade on Jan 10 keeps the month's usage (the same window, the new plan's limit).
    expect(window('month', '2026-01-10T12:00:00Z', -1)).toEqual(window('month', '2026-01-10T12:00:00Z'));
    expect(window('day', '2026-01-19T23:59:59.999Z')).toEqual(['2026-01-19T00:00:00.000Z', '2026-01-20T00:00:00.000Z']);
  });

  it('before a reset that precedes the first upgrade, the plan is the upgrade’s "from" plan', () => {
    const split = splitByChanges(subscription, [
      change('reset', '2026-01-05T00:00:00Z', 'basic', 'basic'),
      change('upgrade', '2026-01-10T00:00:00Z', 'basic', 'pro'),
    ]);
    expect(split.map((piece) => [piece.planId, piece.segment.start.toISOString(), piece.resetAt?.toISOString() ?? null])).toEqual([
      ['basic', '2026-01-01T00:00:00.000Z', null],
      ['basic', '2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
      ['pro', '2026-01-10T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
    ]);
  });

  it('a subscription with no applied change is one span', () => {
    expect(splitByChanges(subscription, [])).toEqual([subscription]);
  });
});
