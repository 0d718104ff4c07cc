import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { directionOf, timingOf } from './change-rules.ts';

const price = (cycle: string, amountMinor: number, customDays: number | null = null) => ({ cycle, customDays, amountMinor });

describe('plan change rules', () => {
  it('calls a change an upgrade when the new price costs more per day', () => {
    expect(directionOf(price('month', 10_000), price('month', 20_000))).toBe('upgrade');
    expect(directionOf(price('month', 20_000), price('month', 10_000))).toBe('downgrade');
    // €100 a month ≈ €3.29 a day; €1,300 a year ≈ €3.56 a day.
    expect(directionOf(price('month', 10_000), price('year', 130_000))).toBe('upgrade');
    expect(directionOf(price('month', 10_000), price('year', 110_000))).toBe('downgrade');
    // 30 custom days at €99 cost more per day than a (30.44-day) month at €100.
    expect(directionOf(price('month', 10_000), price('custom', 9_900, 30))).toBe('upgrade');
    // Equal per day: not an upgrade.
    expect(directionOf(price('week', 700), price('day', 100))).toBe('downgrade');
  });

  it('is antisymmetric: of two prices with different prices per day, exactly one way is an upgrade (property)', () => {
    const cycles = fc.constantFrom('day', 'week', 'month', 'year', 'custom');
    const arbitrary = fc.record({
      cycle: cycles,
      amountMinor: fc.integer({ min: 0, max: 1e12 }),
      customDays: fc.integer({ min: 1, max: 3650 }),
    });
    fc.assert(
      fc.property(arbitrary, arbitrary, (a, b) => {
        const ab = directionOf(a, b);
        const ba = directionOf(b, a);
        expect(ab === 'upgrade' && ba === 'upgrade').toBe(false);
      }),
    );
  });

  it('makes upgrades immediate, downgrades and cycle changes wait for the period end, and resets immediate', () => {
    expect(timingOf('upgrade', false, undefined, 'client')).toBe('now');
    expect(timingOf('upgrade', true, undefined, 'client')).toBe('period_end');
    expect(timingOf('downgrade', false, undefined, 'client')).toBe('period_end');
    expect(timingOf('reset', false, 'period_end', 'client')).toBe('now');
  });

  it('lets an operator, but not a client, make a downgrade immediate', () => {
    expect(timingOf('downgrade', false, 'now', 'operator')).toBe('now');
    expect(timingOf('downgrade', false, 'now', 'client')).toBe('clients_cannot_force_immediate_downgrade');
    expect(timingOf('upgrade', true, 'now', 'client')).toBe('now');
    expect(timingOf('upgrade', false, 'period_end', 'client')).toBe('period_end');
  });
});
