import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionDue, RECURRENCE_PERIODS, recurrenceProblem } from './recurrence.ts';

describe('recurring bill executions', () => {
  it('execution k of a monthly bill is k months from the start, clamped to the month end', () => {
    const start = new Date('2015-01-31T23:22:37Z');
    expect(executionDue(start, 'month', 1, 0).toISOString()).toBe('2015-01-31T23:22:37.000Z');
    expect(executionDue(start, 'month', 1, 1).toISOString()).toBe('2015-02-28T23:22:37.000Z');
    expect(executionDue(start, 'month', 1, 2).toISOString()).toBe('2015-03-31T23:22:37.000Z');
    expect(executionDue(start, 'month', 3, 1).toISOString()).toBe('2015-04-30T23:22:37.000Z');
  });

  it('SemiMonth executions fall on the 1st and the 15th after the start', () => {
    const start = new Date('2015-08-27T23:22:37Z');
    const dues = [1, 2, 3, 4].map((k) => executionDue(start, 'semimonth', 1, k).toISOString());
    expect(dues).toEqual(['2015-09-01T23:22:37.000Z', '2015-09-15T23:22:37.000Z', '2015-10-01T23:22:37.000Z', '2015-10-15T23:22:37.000Z']);
    expect(executionDue(new Date('2015-12-15T00:00:00Z'), 'semimonth', 1, 1).toISOString()).toBe('2016-01-01T00:00:00.000Z');
  });

  it('executions are strictly increasing for every period and allowed frequency', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }),
        fc.constantFrom(...RECURRENCE_PERIODS),
        fc.integer({ min: 1, max: 366 }),
        fc.integer({ min: 0, max: 60 }),
        (start, period, frequency, k) => {
          fc.pre(recurrenceProblem(period, frequency) === undefined);
          expect(executionDue(start, period, frequency, k + 1).getTime()).toBeGreaterThan(
            executionDue(start, period, frequency, k).getTime(),
          );
        },
      ),
    );
  });

  it('refuses period × frequency over a year, and SemiMonth with a frequency other than 1', () => {
    expect(recurrenceProblem('month', 12)).toBeUndefined();
    expect(recurrenceProblem('month', 13)).toMatch(/one year/);
    expect(recurrenceProblem('week', 53)).toMatch(/one year/);
    expect(recurrenceProblem('year', 2)).toMatch(/one year/);
    expect(recurrenceProblem('day', 366)).toBeUndefined();
    expect(recurrenceProblem('day', 367)).toMatch(/one year/);
    expect(recurrenceProblem('semimonth', 2)).toMatch(/frequency must be 1/);
  });
});
