import { boundary } from '../commerce/calendar.ts';

/** The periods of a recurring bill (PayPal's, lower case). */
export const RECURRENCE_PERIODS = ['day', 'week', 'semimonth', 'month', 'year'] as const;
/** A recurring bill's period. */
export type RecurrencePeriod = (typeof RECURRENCE_PERIODS)[number];

// How many of each period make a year at most: period × frequency may not exceed one year.
const MAX_FREQUENCY: Record<RecurrencePeriod, number> = { day: 366, week: 52, semimonth: 1, month: 12, year: 1 };

/** Why `frequency` × `period` is not allowed (over one year; SemiMonth only with frequency 1), or undefined. */
export function recurrenceProblem(period: RecurrencePeriod, frequency: number): string | undefined {
  if (period === 'semimonth' && frequency !== 1) return 'SemiMonth bills on the 1st and the 15th: its frequency must be 1';
  if (frequency > MAX_FREQUENCY[period])
    return `period × frequency may be at most one year (${period}: frequency ≤ ${MAX_FREQUENCY[period]})`;
  return undefined;
}

/** The period named case-insensitively (`Month`, `SemiMonth`), or undefined. */
export function parsePeriod(value: string): RecurrencePeriod | undefined {
  const lower = value.toLowerCase();
  return (RECURRENCE_PERIODS as readonly string[]).includes(lower) ? (lower as RecurrencePeriod) : undefined;
}

const DAY_MS = 86_400_000;

// SemiMonth: half-month h is the 1st (even h) or the 15th (odd h) of month floor(h / 2), at the start's UTC time of day.
function halfMonthInstant(half: number, timeOfDayMs: number): Date {
  const month = Math.floor(half / 2);
  return new Date(Date.UTC(Math.floor(month / 12), month % 12, half % 2 === 0 ? 1 : 15) + timeOfDayMs);
}

/**
 * When execution `k` (0 = at the start) of a recurring bill is due, computed from the start,
 * never iterated: start + k × frequency × period by the commerce calendar in UTC (months
 * clamped to the month's last day, like subscription periods). SemiMonth: the k-th 1st or
 * 15th after the start, at the start's time of day.
 */
export function executionDue(start: Date, period: RecurrencePeriod, frequency: number, k: number): Date {
  if (k === 0) return start;
  if (period === 'semimonth') {
    const timeOfDay = start.getTime() - Math.floor(start.getTime() / DAY_MS) * DAY_MS;
    const startHalf = (start.getUTCFullYear() * 12 + start.getUTCMonth()) * 2 + (start.getUTCDate() >= 15 ? 1 : 0);
    return halfMonthInstant(startHalf + k, timeOfDay);
  }
  return boundary(start, { unit: period, count: frequency }, 'UTC', k);
}
