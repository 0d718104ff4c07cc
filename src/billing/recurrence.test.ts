import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionAt, parsePeriod, recurrenceProblem } from './recurrence.ts';

const at = (iso: string) => new Date(iso);

describe('recurring bill executions', () => {
  it('executes monthly from the start, clamping to short months and coming back (Jan 31 → Feb 28 → Mar 31)', () => {
    const start = at('2027-01-31T09:00:00Z');
    expect([0, 1, 2, 3].map((k) => executionAt(start, 'month', 1, 'UTC', k).toISOString())).toEqual([
      '2027-01-31T09:00:00.000Z',
      '2027-02-28T09:00:00.000Z',
      '2027-03-31T09:00:00.000Z',
      '2027-04-30T09:00:00.000Z',
    ]);
    expect(executionAt(start, 'month', 3, 'UTC', 1).toISOString()).toBe('2027-04-30T09:00:00.000Z');
    expect(executionAt(start, 'week', 2, 'UTC', 1).toISOString()).toBe('2027-02-14T09:00:00.000Z');
  });

  it('executes semimonthly on the 1st and the 15th, from the first of them on or after the start, at its local time', () => {
    const start = at('2015-08-27T23:22:37Z');
    expect([0, 1, 2, 3].map((k) => executionAt(start, 'semimonth', 1, 'UTC', k).toISOString())).toEqual([
      '2015-09-01T23:22:37.000Z',
      '2015-09-15T23:22:37.000Z',
      '2015-10-01T23:22:37.000Z',
      '2015-10-15T23:22:37.000Z',
    ]);
    expect(executionAt(at('2027-12-15T08:00:00Z'), 'semimonth', 1, 'UTC', 1).toISOString()).toBe('2028-01-01T08:00:00.000Z');
    // 10:00 in Berlin is 09:00Z in winter and 08:00Z in summer.
    expect(executionAt(at('2027-03-01T09:00:00Z'), 'semimonth', 1, 'Europe/Berlin', 2).toISOString()).toBe('2027-04-01T08:00:00.000Z');
  });

  it('always moves forward, one execution after another, for any start, period and zone (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2080-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom('day', 'week', 'semimonth', 'month', 'year' as const),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide'),
        fc.integer({ min: 0, max: 60 }),
        (start, period, zone, k) => {
          const here = executionAt(start, period, 1, zone, k);
          const next = executionAt(start, period, 1, zone, k + 1);
          expect(next.getTime()).toBeGreaterThan(here.getTime());
          if (period !== 'semimonth') expect(executionAt(start, period, 1, zone, 0).getTime()).toBe(start.getTime());
          else expect(executionAt(start, period, 1, zone, 0).getTime()).toBeGreaterThanOrEqual(start.getTime() - 86_400_000);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads periods in any case and allows period × frequency of at most a year, semimonth only once', () => {
    expect(parsePeriod('SemiMonth')).toBe('semimonth');
    expect(parsePeriod('fortnight')).toBeUndefined();
    expect(recurrenceProblem('month', 12)).toBeNull();
    expect(recurrenceProblem('month', 13)).toContain('one year');
    expect(recurrenceProblem('day', 366)).toContain('one year');
    expect(recurrenceProblem('week', 52)).toBeNull();
    expect(recurrenceProblem('year', 2)).toContain('one year');
    expect(recurrenceProblem('semimonth', 2)).toContain('frequency must be 1');
  });
});
