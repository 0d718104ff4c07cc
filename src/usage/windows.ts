import { localDayWindow, periodContaining } from '../commerce/calendar.ts';
import type { SubscriptionSpan } from './usage-context.ts';

/** A usage window: `[start, end)`; `end` null for a window as long as the subscription (`reset: never`). */
export interface UsageWindow {
  start: Date;
  end: Date | null;
}

/**
 * The window of a plan feature's `reset` that contains `instant`, derived every time from
 * the subscription (never stored as a "current period" that could go stale):
 * - `day`: the local calendar day in the product's billing zone;
 * - `week`, `month`, `year`: the period of that length counted from the subscription's anchor in
 *   the subscription's zone (a monthly allowance resets when the bill renews; an anchor on the
 *   31st gives Feb 28/29);
 * - `never`: the subscription's life from its start.
 */
export function windowAt(reset: string, zone: string, span: SubscriptionSpan, instant: Date): UsageWindow {
  switch (reset) {
    case 'day': {
      const day = localDayWindow(zone, instant);
      return { start: day.start, end: day.end };
    }
    case 'week':
    case 'month':
    case 'year': {
      const period = periodContaining(span.anchor, { unit: reset, count: 1 }, span.zone, instant);
      return { start: period.start, end: period.end };
    }
    default:
      return { start: span.start, end: null };
  }
}

/**
 * When a window stops taking late events: `graceMs` after it ends, or after the
 * subscription ends for a window as long as the subscription.
 */
export function closesAt(window: UsageWindow, span: SubscriptionSpan, graceMs: number): number {
  const end = window.end ?? span.end;
  return end === null ? Number.POSITIVE_INFINITY : end.getTime() + graceMs;
}
