import { calendarDaysBetween } from '../commerce/calendar.ts';

/** One line a change bills: the credit for the old price's unused days, or the charge for the new price's. */
export interface ProrationLine {
  kind: 'credit' | 'charge';
  /** Minor units: negative for the credit. */
  amountMinor: number;
  /** The days of the period it covers, and the period's length in days. */
  days: number;
  periodDays: number;
  /** The instants it covers: from the change to the period's end. */
  start: Date;
  end: Date;
}

/** What a change applied inside a period is prorated against. */
export interface ProrationInput {
  /** The current period, half-open `[start, end)`. */
  periodStart: Date;
  periodEnd: Date;
  /** When the change takes effect (inside the period). */
  at: Date;
  /** The product's billing zone: days are its calendar days. */
  zone: string;
  /** The old and new prices for a whole period, in minor units. */
  oldAmountMinor: number;
  newAmountMinor: number;
  /** What the period actually charged for the old price (its invoice, or an earlier change's charge): the credit's cap. */
  chargedMinor: number;
  /** The days the new price's amount is for, when its cycle is not the period's (default: the period's days). */
  newPeriodDays?: number;
}

/** `amount × days / periodDays`, rounded half up, in exact integer arithmetic. */
export function prorate(amountMinor: number, days: number, periodDays: number): number {
  if (periodDays <= 0 || days <= 0) return 0;
  const numerator = BigInt(amountMinor) * BigInt(days);
  const denominator = BigInt(periodDays);
  return Number((2n * numerator + denominator) / (2n * denominator));
}

/**
 * The proration of a change applied at `at`: a credit line for the unused days of the
 * old price and a charge line for the same days of the new one, each rounded half up
 * in minor units. Days are calendar days in the billing zone, the day of the change
 * counted as unused (so a 23-hour DST day is still one day). The credit never exceeds
 * what the period charged. €100 → €200 over Jan 1 – Feb 1 (31 days), applied Jan 15:
 * 17 days unused → −5,484 and +10,968. Lines of zero are left out.
 */
export function prorationLines(input: ProrationInput): ProrationLine[] {
  const periodDays = calendarDaysBetween(input.zone, input.periodStart, input.periodEnd);
  const at = input.at < input.periodStart ? input.periodStart : input.at;
  const days = Math.min(periodDays, Math.max(0, calendarDaysBetween(input.zone, at, input.periodEnd)));
  const credit = Math.min(prorate(input.oldAmountMinor, days, periodDays), Math.max(0, input.chargedMinor));
  const charge = prorate(input.newAmountMinor, days, input.newPeriodDays ?? periodDays);
  const covered = { days, periodDays, start: at, end: input.periodEnd };
  const lines: ProrationLine[] = [];
  if (credit > 0) lines.push({ kind: 'credit', amountMinor: -credit, ...covered });
  if (charge > 0) lines.push({ kind: 'charge', amountMinor: charge, ...covered });
  return lines;
}
