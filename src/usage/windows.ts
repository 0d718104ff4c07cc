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
 *   force at `instant`, in the subscription's zone (a monthly allowance resets when the bill
 *   renews; an anchor on the 31st gives Feb 28/29); the next anchor (a trial's end, a change of
 *   cycle) ends it, so a later anchor never moves a window that began before it;
 * - `never`: the subscription's life from its start.
 * A confirmed `reset` plan change cuts them all: the window it falls in ends there, and a
 * new one (of every reset period, `never` included) starts there.
 */
export function windowAt(reset: string, zone: string, span: SubscriptionSpan, instant: Date): UsageWindow {
  const natural = naturalWindow(reset, zone, span, instant);
  // A confirmed reset restarts every window: the one it falls in is cut there, and the next starts there.
  const start = span.resetAt && span.resetAt.getTime() > natural.start.getTime() ? span.resetAt : natural.start;
  const next = span.nextResetAt;
  const end = next && (natural.end === null || next.getTime() < natural.end.getTime()) ? next : natural.end;
  return { start, end };
}

function naturalWindow(reset: string, zone: string, span: SubscriptionSpan, instant: Date): UsageWindow {
  switch (reset) {
    case 'day': {
      const day = localDayWindow(zone, instant);
      return { start: day.start, end: day.end };
    }
    case 'week':
    case 'month':
    case 'year': {
      const { anchor, next } = anchorAt(span.anchors, instant);
      const period = periodContaining(anchor, { unit: reset, count: 1 }, span.zone, instant);
      return { start: period.start, end: next && next.getTime() < period.end.getTime() ? next : period.end };
    }
    default:
      return { start: span.start, end: null };
  }
}

/** The anchor in force at `instant` (the latest at or before it; the first before them all) and the next one. */
function anchorAt(anchors: readonly Date[], instant: Date): { anchor: Date; next: Date | undefined } {
  const at = instant.getTime();
  let index = 0;
  while (index + 1 < anchors.length && (anchors[index + 1] as Date).getTime() <= at) index += 1;
  const anchor = anchors[index];
  if (!anchor) throw new Error('a subscription span without an anchor');
  return { anchor, next: anchors[index + 1] };
}

/**
 * When a window stops taking late events: `graceMs` after it ends, or after the
 * subscription ends for a window as long as the subscription.
 */
export function closesAt(window: UsageWindow, span: SubscriptionSpan, graceMs: number): number {
  const end = window.end ?? span.end;
  return end === null ? Number.POSITIVE_INFINITY : end.getTime() + graceMs;
}
