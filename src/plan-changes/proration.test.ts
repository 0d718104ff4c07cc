import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundary, type Cycle } from '../commerce/calendar.ts';
import { prorate, prorationLines } from './proration.ts';

const at = (iso: string) => new Date(iso);

describe('proration', () => {
  it("bills the issue's example: €100 → €200 over Jan 1 – Feb 1, applied Jan 15 → −5,484 and +10,968", () => {
    const lines = prorationLines({
      periodStart: at('2027-01-01T00:00:00Z'),
      periodEnd: at('2027-02-01T00:00:00Z'),
      at: at('2027-01-15T00:00:00Z'),
      zone: 'UTC',
      oldAmountMinor: 10_000,
      newAmountMinor: 20_000,
      chargedMinor: 10_000,
    });
    expect(lines.map((line) => [line.kind, line.amountMinor, line.days, line.periodDays])).toEqual([
      ['credit', -5_484, 17, 31],
      ['charge', 10_968, 17, 31],
    ]);
  });

  it('counts calendar days of the billing zone: late on Jan 14 in New York is still Jan 14 there', () => {
    const lines = prorationLines({
      periodStart: at('2027-01-01T05:00:00Z'),
      periodEnd: at('2027-02-01T05:00:00Z'),
      at: at('2027-01-15T03:00:00Z'), // 22:00 on Jan 14 in New York
      zone: 'America/New_York',
      oldAmountMinor: 10_000,
      newAmountMinor: 20_000,
      chargedMinor: 10_000,
    });
    expect(lines.map((line) => line.days)).toEqual([18, 18]);
  });

  it('rounds half up per line', () => {
    expect(prorate(1, 1, 2)).toBe(1);
    expect(prorate(3, 1, 2)).toBe(2);
    expect(prorate(10_000, 17, 31)).toBe(5_484);
    expect(prorate(20_000, 17, 31)).toBe(10_968);
    expect(prorate(1, 1, 3)).toBe(0);
  });

  it('never credits more than the period charged (a trial charged nothing: no credit)', () => {
    const lines = prorationLines({
      periodStart: at('2027-01-01T00:00:00Z'),
      periodEnd: at('2027-02-01T00:00:00Z'),
      at: at('2027-01-02T00:00:00Z'),
      zone: 'UTC',
      oldAmountMinor: 10_000,
      newAmountMinor: 20_000,
      chargedMinor: 0,
    });
    expect(lines.map((line) => line.kind)).toEqual(['charge']);
  });

  it('credits at most what was charged, and never a positive amount, for any period, zone and moment (property)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', 'Pacific/Chatham'];
    const cycles: Cycle[] = [
      { unit: 'day', count: 1 },
      { unit: 'week', count: 1 },
      { unit: 'month', count: 1 },
      { unit: 'month', count: 3 },
      { unit: 'year', count: 1 },
      { unit: 'day', count: 45 },
    ];
    fc.assert(
      fc.property(
        fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2090-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...cycles),
        fc.constantFrom(...zones),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        (anchor, cycle, zone, fraction, oldAmount, newAmount, charged) => {
          const periodStart = boundary(anchor, cycle, zone, 0);
          const periodEnd = boundary(anchor, cycle, zone, 1);
          const moment = new Date(periodStart.getTime() + Math.floor(fraction * (periodEnd.getTime() - periodStart.getTime() - 1)));
          const lines = prorationLines({
            periodStart,
            periodEnd,
            at: moment,
            zone,
            oldAmountMinor: oldAmount,
            newAmountMinor: newAmount,
            chargedMinor: charged,
          });
          const credit = lines.find((line) => line.kind === 'credit');
          const charge = lines.find((line) => line.kind === 'charge');
          expect(-(credit?.amountMinor ?? 0)).toBeLessThanOrEqual(Math.min(charged, oldAmount));
          expect(credit?.amountMinor ?? 0).toBeLessThanOrEqual(0);
          expect(charge?.amountMinor ?? 0).toBeLessThanOrEqual(newAmount);
          expect(charge?.amountMinor ?? 0).toBeGreaterThanOrEqual(0);
          for (const line of lines) expect(line.days).toBeLessThanOrEqual(line.periodDays);
        },
      ),
      { numRuns: 300 },
    );
  });
});
