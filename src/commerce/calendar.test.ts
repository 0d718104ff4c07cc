import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import {
  boundariesDue,
  boundary,
  boundaryZoned,
  CYCLE_UNITS,
  type Cycle,
  calendarDaysBetween,
  cycleOfPrice,
  isValidZone,
  localDate,
  localDayWindow,
  periodContaining,
} from './calendar.ts';

const ZONES = ['UTC', 'Asia/Kolkata', 'Australia/Adelaide', 'America/New_York', 'Europe/Berlin', 'Pacific/Chatham'] as const;
const MIN_MS = Date.UTC(1990, 0, 1);
const MAX_MS = Date.UTC(2060, 0, 1);

const anchorArb = fc.integer({ min: MIN_MS, max: MAX_MS }).map((ms) => new Date(ms));
const zoneArb = fc.constantFrom(...ZONES);
const cycleArb: fc.Arbitrary<Cycle> = fc.record({ unit: fc.constantFrom(...CYCLE_UNITS), count: fc.integer({ min: 1, max: 4 }) });
const nArb = fc.integer({ min: -6, max: 40 });

function zoned(at: Date, zone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(zone);
}

/** An independent model: walk the local calendar one unit at a time, clamping the anchor's day each step. */
function iteratedBoundary(anchor: Date, cycle: Cycle, zone: string, n: number): Date {
  const local = zoned(anchor, zone).toPlainDateTime();
  const steps = n * cycle.count;
  const sign = Math.sign(steps);
  let date: Temporal.PlainDate;
  if (cycle.unit === 'day' || cycle.unit === 'week') {
    date = local.toPlainDate();
    const days = Math.abs(steps) * (cycle.unit === 'week' ? 7 : 1);
    for (let i = 0; i < days; i += 1) date = date.add({ days: sign });
  } else {
    let yearMonth = Temporal.PlainYearMonth.from({ year: local.year, month: local.month });
    const months = Math.abs(steps) * (cycle.unit === 'year' ? 12 : 1);
    for (let i = 0; i < months; i += 1) yearMonth = yearMonth.add({ months: sign });
    date = yearMonth.toPlainDate({ day: Math.min(local.day, yearMonth.daysInMonth) });
  }
  const at = date.toPlainDateTime(local.toPlainTime()).toZonedDateTime(zone, { disambiguation: 'compatible' });
  return new Date(at.epochMilliseconds);
}

describe('calendar properties', () => {
  it('boundary n computed from the anchor equals boundary n reached by stepping the local calendar', () => {
    fc.assert(
      fc.property(anchorArb, cycleArb, zoneArb, nArb, (anchor, cycle, zone, n) => {
        expect(boundary(anchor, cycle, zone, n).getTime()).toBe(iteratedBoundary(anchor, cycle, zone, n).getTime());
      }),
      { numRuns: 400 },
    );
  });

  it('the UTC fast path equals the zoned calendar', () => {
    fc.assert(
      fc.property(anchorArb, cycleArb, nArb, (anchor, cycle, n) => {
        expect(boundary(anchor, cycle, 'UTC', n).getTime()).toBe(boundaryZoned(anchor, cycle, 'UTC', n).getTime());
      }),
      { numRuns: 1000 },
    );
  });

  it('periods tile time: the period containing an instant holds it, and the next one starts where it ends', () => {
    fc.assert(
      fc.property(
        anchorArb,
        cycleArb,
        zoneArb,
        fc.integer({ min: -400 * 86_400_000, max: 4000 * 86_400_000 }),
        (anchor, cycle, zone, offset) => {
          const instant = new Date(anchor.getTime() + offset);
          const period = periodContaining(anchor, cycle, zone, instant);
          expect(period.start.getTime()).toBeLessThanOrEqual(instant.getTime());
          expect(instant.getTime()).toBeLessThan(period.end.getTime());
          expect(period.start.getTime()).toBe(boundary(anchor, cycle, zone, period.number).getTime());
          const next = periodContaining(anchor, cycle, zone, period.end);
          expect(next.number).toBe(period.number + 1);
          expect(next.start.getTime()).toBe(period.end.getTime());
          const before = periodContaining(anchor, cycle, zone, new Date(period.start.getTime() - 1));
          expect(before.number).toBe(period.number - 1);
          expect(before.end.getTime()).toBe(period.start.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('month and year steps land on local day min(anchor day, days in that month) at the anchor local time', () => {
    const monthly = fc.record({ unit: fc.constantFrom('month' as const, 'year' as const), count: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(anchorArb, monthly, zoneArb, nArb, (anchor, cycle, zone, n) => {
        const local = zoned(anchor, zone);
        const at = zoned(boundary(anchor, cycle, zone, n), zone);
        expect(at.day).toBe(Math.min(local.day, at.daysInMonth));
        const months = n * cycle.count * (cycle.unit === 'year' ? 12 : 1);
        expect(at.year * 12 + at.month - (local.year * 12 + local.month)).toBe(months);
      }),
      { numRuns: 400 },
    );
  });

  it('day and week steps keep the local wall-clock time unless it does not exist that day', () => {
    const daily = fc.record({ unit: fc.constantFrom('day' as const, 'week' as const), count: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(anchorArb, daily, zoneArb, nArb, (anchor, cycle, zone, n) => {
        const local = zoned(anchor, zone).toPlainDateTime();
        const at = zoned(boundary(anchor, cycle, zone, n), zone).toPlainDateTime();
        const days = n * cycle.count * (cycle.unit === 'week' ? 7 : 1);
        const intended = local.add({ days });
        if (!at.equals(intended)) {
          // Only a local time inside a DST gap may move, and then forward.
          expect(() => intended.toZonedDateTime(zone, { disambiguation: 'reject' })).toThrow();
          expect(Temporal.PlainDateTime.compare(at, intended)).toBe(1);
        }
        expect(calendarDaysBetween(zone, anchor, boundary(anchor, cycle, zone, n))).toBe(days);
      }),
      { numRuns: 400 },
    );
  });

  it('a local day is the same whether it was remembered or worked out afresh, on both sides of its edges', () => {
    // Instants near each other (the same day, its edges ± 1 ms) in several zones, interleaved, so answers come
    // from the remembered day as well as from the calendar; each is checked against Temporal directly.
    const nearArb = fc.tuple(zoneArb, anchorArb, fc.array(fc.integer({ min: -30 * 3_600_000, max: 30 * 3_600_000 }), { maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(nearArb, { minLength: 1, maxLength: 4 }), (groups) => {
        for (const [zone, base, offsets] of groups) {
          const first = localDayWindow(zone, base);
          const instants = [
            base,
            first.start,
            new Date(first.end.getTime() - 1),
            first.end,
            ...offsets.map((o) => new Date(base.getTime() + o)),
          ];
          for (const instant of instants) {
            const local = Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(zone);
            const day = localDayWindow(zone, instant);
            expect(day.date).toBe(local.toPlainDate().toString());
            expect(day.start.getTime()).toBe(local.startOfDay().epochMilliseconds);
            expect(day.end.getTime()).toBe(local.startOfDay().add({ days: 1 }).startOfDay().epochMilliseconds);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('local days tile time and calendar day counts add up', () => {
    fc.assert(
      fc.property(zoneArb, anchorArb, anchorArb, anchorArb, (zone, a, b, c) => {
        const day = localDayWindow(zone, a);
        expect(day.start.getTime()).toBeLessThanOrEqual(a.getTime());
        expect(a.getTime()).toBeLessThan(day.end.getTime());
        expect(localDayWindow(zone, day.end).start.getTime()).toBe(day.end.getTime());
        expect(calendarDaysBetween(zone, day.start, day.end)).toBe(1);
        expect(calendarDaysBetween(zone, a, b) + calendarDaysBetween(zone, b, c)).toBe(calendarDaysBetween(zone, a, c));
      }),
      { numRuns: 300 },
    );
  });
});

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();
const monthly: Cycle = { unit: 'month', count: 1 };

describe('calendar edges', () => {
  it('a Jan 31 monthly anchor clamps and comes back: Feb 29, Mar 31, Apr 30', () => {
    const anchor = at('2024-01-31T10:00:00.000Z');
    expect([1, 2, 3, 13].map((n) => iso(boundary(anchor, monthly, 'UTC', n)))).toEqual([
      '2024-02-29T10:00:00.000Z',
      '2024-03-31T10:00:00.000Z',
      '2024-04-30T10:00:00.000Z',
      '2025-02-28T10:00:00.000Z',
    ]);
  });

  it('the period containing a month-end boundary switches exactly at it (−1 ms, 0, +1 ms)', () => {
    const anchor = at('2024-01-31T00:00:00.000Z');
    const edge = at('2024-02-29T00:00:00.000Z').getTime();
    expect(periodContaining(anchor, monthly, 'UTC', new Date(edge - 1)).number).toBe(0);
    expect(periodContaining(anchor, monthly, 'UTC', new Date(edge)).number).toBe(1);
    expect(periodContaining(anchor, monthly, 'UTC', new Date(edge + 1)).number).toBe(1);
    expect(iso(periodContaining(anchor, monthly, 'UTC', new Date(edge)).end)).toBe('2024-03-31T00:00:00.000Z');
  });

  it('a Feb 29 yearly anchor renews on Feb 28 in common years and Feb 29 in leap years', () => {
    const anchor = at('2024-02-29T12:00:00.000Z');
    const yearly: Cycle = { unit: 'year', count: 1 };
    expect([1, 4].map((n) => iso(boundary(anchor, yearly, 'UTC', n)))).toEqual(['2025-02-28T12:00:00.000Z', '2028-02-29T12:00:00.000Z']);
    const edge = at('2025-02-28T12:00:00.000Z').getTime();
    expect([edge - 1, edge, edge + 1].map((ms) => periodContaining(anchor, yearly, 'UTC', new Date(ms)).number)).toEqual([0, 1, 1]);
  });

  it('a month end in Berlin stays at local 23:30 across the spring DST change', () => {
    const anchor = at('2024-01-31T22:30:00.000Z'); // 23:30 CET
    expect(iso(boundary(anchor, monthly, 'Europe/Berlin', 1))).toBe('2024-02-29T22:30:00.000Z');
    expect(iso(boundary(anchor, monthly, 'Europe/Berlin', 2))).toBe('2024-03-31T21:30:00.000Z'); // 23:30 CEST
  });

  it('daily periods in New York keep noon across DST: 23-hour and 25-hour periods', () => {
    const anchor = at('2024-03-09T17:00:00.000Z'); // 12:00 EST
    const daily: Cycle = { unit: 'day', count: 1 };
    expect(iso(boundary(anchor, daily, 'America/New_York', 1))).toBe('2024-03-10T16:00:00.000Z');
    const fall = at('2024-11-02T16:00:00.000Z'); // 12:00 EDT
    expect(iso(boundary(fall, daily, 'America/New_York', 1))).toBe('2024-11-03T17:00:00.000Z');
    const edge = at('2024-03-10T16:00:00.000Z').getTime();
    expect([edge - 1, edge, edge + 1].map((ms) => periodContaining(anchor, daily, 'America/New_York', new Date(ms)).number)).toEqual([
      0, 1, 1,
    ]);
  });

  it('a daily 02:30 anchor in New York moves to 03:30 on the spring-forward day and comes back', () => {
    const anchor = at('2024-03-09T07:30:00.000Z'); // 02:30 EST
    const daily: Cycle = { unit: 'day', count: 1 };
    expect([1, 2].map((n) => iso(boundary(anchor, daily, 'America/New_York', n)))).toEqual([
      '2024-03-10T07:30:00.000Z',
      '2024-03-11T06:30:00.000Z',
    ]);
  });

  it('half-hour and 45-minute zones: Adelaide, Kolkata and Chatham month ends', () => {
    // Adelaide 2024-01-31 00:00 ACDT (+10:30) → 2024-04-30 00:00 ACST (+09:30), DST ended Apr 7.
    expect(iso(boundary(at('2024-01-30T13:30:00.000Z'), monthly, 'Australia/Adelaide', 3))).toBe('2024-04-29T14:30:00.000Z');
    expect(iso(boundary(at('2024-01-30T18:30:00.000Z'), monthly, 'Asia/Kolkata', 1))).toBe('2024-02-28T18:30:00.000Z');
    // Chatham 2024-01-31 00:00 +13:45 → 2024-04-30 00:00 +12:45.
    expect(iso(boundary(at('2024-01-30T10:15:00.000Z'), monthly, 'Pacific/Chatham', 3))).toBe('2024-04-29T11:15:00.000Z');
  });

  it('counts calendar days for proration: Jan 1 – Feb 1 is 31, Jan 15 – Feb 1 is 17, a 23-hour day is 1', () => {
    expect(calendarDaysBetween('UTC', at('2024-01-01T00:00:00Z'), at('2024-02-01T00:00:00Z'))).toBe(31);
    expect(calendarDaysBetween('UTC', at('2024-01-15T00:00:00Z'), at('2024-02-01T00:00:00Z'))).toBe(17);
    const day = localDayWindow('America/New_York', at('2024-03-10T12:00:00Z'));
    expect(day.end.getTime() - day.start.getTime()).toBe(23 * 3_600_000);
    expect(day.date).toBe('2024-03-10');
    expect(localDate('Pacific/Chatham', at('2024-01-30T10:15:00.000Z'))).toBe('2024-01-31');
  });

  it('lists the missed boundaries due by now, in order, and none at −1 ms', () => {
    const anchor = at('2024-01-31T00:00:00.000Z');
    expect(boundariesDue(anchor, monthly, 'UTC', 0, at('2024-04-30T00:00:00.000Z'))).toEqual([1, 2, 3]);
    expect(boundariesDue(anchor, monthly, 'UTC', 0, new Date(at('2024-02-29T00:00:00.000Z').getTime() - 1))).toEqual([]);
  });

  it('maps catalogue prices to cycles and knows IANA zones', () => {
    expect(cycleOfPrice({ cycle: 'custom', customDays: 10 })).toEqual({ unit: 'day', count: 10 });
    expect(cycleOfPrice({ cycle: 'month', customDays: null })).toEqual(monthly);
    expect(cycleOfPrice({ cycle: 'unlimited', customDays: null })).toBeNull();
    expect(isValidZone('Pacific/Chatham')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    expect(isValidZone('')).toBe(false);
  });
});
