/**
 * The billing calendar: every period boundary, usage window and day count Landlord bills by.
 *
 * Rules (ADR 0008):
 * - boundary n is computed from the anchor every time (`anchor + n × cycle`), never from the previous end, so a
 *   clamped month (Jan 31 → Feb 28) never drags later months to the 28th;
 * - month and year steps clamp the local day to the month's length and come back (Jan 31 → Feb 29 → Mar 31 → Apr 30);
 * - day and week steps keep the anchor's local wall-clock time across DST changes (a local time that falls in a
 *   gap moves forward by the gap, an ambiguous one takes the earlier instant: Temporal's `compatible`);
 * - everything is on the calendar of one IANA zone, `UTC` by default.
 *
 * `Date#setUTCMonth` is never used: it overflows (Jan 31 + 1 month = Mar 3).
 */
import { Temporal } from 'temporal-polyfill';

/** The units a billing cycle counts in. */
export const CYCLE_UNITS = ['day', 'week', 'month', 'year'] as const;
export type CycleUnit = (typeof CYCLE_UNITS)[number];

/** A billing cycle: `count` × `unit` (a `custom` price of 10 days is `{ unit: 'day', count: 10 }`). */
export interface Cycle {
  unit: CycleUnit;
  count: number;
}

/** A half-open period `[start, end)` and its number from the anchor (0 = the period starting at the anchor). */
export interface Period {
  number: number;
  start: Date;
  end: Date;
}

/** The zone a product bills in when it names none. */
export const DEFAULT_BILLING_ZONE = 'UTC';

/** True when `zone` is an IANA time zone this runtime knows (`UTC` included). */
export function isValidZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    Temporal.Now.instant().toZonedDateTimeISO(zone);
    return true;
  } catch {
    return false;
  }
}

/** The cycle of a catalogue price, or null for a price that never renews (`unlimited`). */
export function cycleOfPrice(price: { cycle: string; customDays: number | null }): Cycle | null {
  if (price.cycle === 'custom') return { unit: 'day', count: price.customDays ?? 1 };
  if (price.cycle === 'unlimited') return null;
  return { unit: price.cycle as CycleUnit, count: 1 };
}

const DAY_MS = 86_400_000;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonthOf(year: number, month0: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month0] ?? 31;
}

/** UTC has no DST and no offset: plain integer arithmetic on the civil date, proved equal to the zoned path. */
function boundaryUtc(anchorMs: number, cycle: Cycle, n: number): number {
  const steps = n * cycle.count;
  if (cycle.unit === 'day') return anchorMs + steps * DAY_MS;
  if (cycle.unit === 'week') return anchorMs + steps * 7 * DAY_MS;
  const a = new Date(anchorMs);
  const months = cycle.unit === 'month' ? steps : steps * 12;
  const total = a.getUTCFullYear() * 12 + a.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month0 = total - year * 12;
  const day = Math.min(a.getUTCDate(), daysInMonthOf(year, month0));
  const timeOfDay = anchorMs - Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate());
  const dayStart = Date.UTC(year, month0, day);
  // Date.UTC maps years 0–99 to 1900–1999; billing dates never go there, but stay exact anyway.
  return (year >= 0 && year < 100 ? new Date(dayStart).setUTCFullYear(year) : dayStart) + timeOfDay;
}

/** Boundary n by the zoned calendar (Temporal), the reference every fast path is tested against. */
export function boundaryZoned(anchor: Date, cycle: Cycle, zone: string, n: number): Date {
  const start = Temporal.Instant.fromEpochMilliseconds(anchor.getTime()).toZonedDateTimeISO(zone);
  const steps = n * cycle.count;
  const duration =
    cycle.unit === 'day'
      ? { days: steps }
      : cycle.unit === 'week'
        ? { weeks: steps }
        : cycle.unit === 'month'
          ? { months: steps }
          : { years: steps };
  return new Date(start.add(duration, { overflow: 'constrain' }).epochMilliseconds);
}

/** Boundary n of the cycle from the anchor (n may be negative), computed from the anchor, never iterated. */
export function boundary(anchor: Date, cycle: Cycle, zone: string, n: number): Date {
  if (zone === 'UTC') return new Date(boundaryUtc(anchor.getTime(), cycle, n));
  return boundaryZoned(anchor, cycle, zone, n);
}

/** Period n: `[boundary n, boundary n+1)`. */
export function periodAt(anchor: Date, cycle: Cycle, zone: string, n: number): Period {
  return { number: n, start: boundary(anchor, cycle, zone, n), end: boundary(anchor, cycle, zone, n + 1) };
}

/** The shortest a cycle step can be, in ms (a 23-hour DST day, a 28-day month), for estimating n. */
function nominalMs(cycle: Cycle): number {
  const unitMs = { day: DAY_MS, week: 7 * DAY_MS, month: 30.436875 * DAY_MS, year: 365.2425 * DAY_MS }[cycle.unit];
  return unitMs * cycle.count;
}

/**
 * The period of the cycle that contains `instant` (usage windows, previews): the n with
 * boundary n ≤ instant < boundary n+1. Instants before the anchor get negative numbers.
 */
export function periodContaining(anchor: Date, cycle: Cycle, zone: string, instant: Date): Period {
  let n = Math.floor((instant.getTime() - anchor.getTime()) / nominalMs(cycle));
  // The estimate is off by at most a step or two (month lengths, DST); walk to the exact period.
  while (boundary(anchor, cycle, zone, n).getTime() > instant.getTime()) n -= 1;
  while (boundary(anchor, cycle, zone, n + 1).getTime() <= instant.getTime()) n += 1;
  return periodAt(anchor, cycle, zone, n);
}

/** How many boundaries after period `afterNumber` are due by `now`: the periods a renewal has to open. */
export function boundariesDue(anchor: Date, cycle: Cycle, zone: string, afterNumber: number, now: Date): number[] {
  const due: number[] = [];
  for (let n = afterNumber + 1; boundary(anchor, cycle, zone, n).getTime() <= now.getTime(); n += 1) due.push(n);
  return due;
}

// The last day each zone was asked for: hot paths (a bill's invoice time, usage windows) ask about today again
// and again, and working it out through the calendar costs more than the rest of their request. A day is a
// fact of the zone's rules, so remembering it changes no answer.
const lastDays = new Map<string, { start: number; end: number; date: string }>();
const LAST_DAYS_BOUND = 1000;

/** The local calendar day containing `instant` in `zone`, as the half-open `[start, end)` instants (23–25 h long). */
export function localDayWindow(zone: string, instant: Date): { start: Date; end: Date; date: string } {
  const at = instant.getTime();
  let day = lastDays.get(zone);
  if (!day || at < day.start || at >= day.end) {
    const local = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(zone);
    const start = local.startOfDay();
    day = {
      start: start.epochMilliseconds,
      end: start.add({ days: 1 }).startOfDay().epochMilliseconds,
      date: local.toPlainDate().toString(),
    };
    if (lastDays.size >= LAST_DAYS_BOUND) lastDays.clear();
    lastDays.set(zone, day);
  }
  return { start: new Date(day.start), end: new Date(day.end), date: day.date };
}

/** The local calendar date (`YYYY-MM-DD`) of an instant in a zone. */
export function localDate(zone: string, instant: Date): string {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(zone).toPlainDate().toString();
}

/**
 * Calendar days between two instants in a zone: the number of local midnights crossed from `from` to `to`
 * (negative when `to` is earlier). Proration counts days this way, so a 23-hour DST day is still one day.
 */
export function calendarDaysBetween(zone: string, from: Date, to: Date): number {
  const a = Temporal.PlainDate.from(localDate(zone, from));
  const b = Temporal.PlainDate.from(localDate(zone, to));
  return a.until(b, { largestUnit: 'days' }).days;
}
