/**
 * When a recurring bill executes (Maestrano's `account_recurring_bill`, whose fields follow PayPal's recurring
 * profiles): execution k is due at start + k × frequency × period, computed from the start every time on the
 * billing calendar (months clamp and come back, days keep the local wall-clock time); `semimonth` executes on the
 * 1st and the 15th of each month, from the first of them on or after the start, at the start's local time.
 */
import { Temporal } from 'temporal-polyfill';
import { boundary } from '../commerce/calendar.ts';

/** The periods a recurring bill counts in (lower case out; accepted in any case). */
export const RECURRENCE_PERIODS = ['day', 'week', 'semimonth', 'month', 'year'] as const;
export type RecurrencePeriod = (typeof RECURRENCE_PERIODS)[number];

// period × frequency ≤ one year: PayPal's limits per period.
const MAX_FREQUENCY: Record<RecurrencePeriod, number> = { day: 365, week: 52, semimonth: 1, month: 12, year: 1 };

/** The period named in any case (`Month`, `SEMIMONTH`), or undefined. */
export function parsePeriod(value: string): RecurrencePeriod | undefined {
  const lower = value.toLowerCase();
  return (RECURRENCE_PERIODS as readonly string[]).includes(lower) ? (lower as RecurrencePeriod) : undefined;
}

/** Why a period and frequency do not go together, or null when they do. */
export function recurrenceProblem(period: RecurrencePeriod, frequency: number): string | null {
  if (period === 'semimonth' && frequency !== 1) return 'a semimonth recurring bill executes on the 1st and the 15th: frequency must be 1';
  if (frequency > MAX_FREQUENCY[period])
    return `period × frequency must be at most one year (at most ${MAX_FREQUENCY[period]} for ${period})`;
  return null;
}

/** The instant of local date `date` at the local time of `like`, in `zone`. */
function atLocalTimeOf(like: Temporal.ZonedDateTime, date: Temporal.PlainDate, zone: string): Date {
  const local = date.toPlainDateTime(like.toPlainTime()).toZonedDateTime(zone, { disambiguation: 'compatible' });
  return new Date(local.epochMilliseconds);
}

/** The due instant of execution `k` (0 = the first) of a recurring bill starting at `start`. */
export function executionAt(start: Date, period: RecurrencePeriod, frequency: number, zone: string, k: number): Date {
  if (period !== 'semimonth') {
    const unit = period;
    return boundary(start, { unit, count: frequency }, zone, k);
  }
  const local = Temporal.Instant.fromEpochMilliseconds(start.getTime()).toZonedDateTimeISO(zone);
  // Slots: the 1st (even) and 15th (odd) of each month; the first slot is the first on or after the start's date.
  const firstSlot = (local.year * 12 + (local.month - 1)) * 2 + (local.day === 1 ? 0 : local.day <= 15 ? 1 : 2);
  const slot = firstSlot + k;
  const monthIndex = Math.floor(slot / 2);
  const date = Temporal.PlainDate.from({ year: Math.floor(monthIndex / 12), month: (monthIndex % 12) + 1, day: slot % 2 === 0 ? 1 : 15 });
  return atLocalTimeOf(local, date, zone);
}
