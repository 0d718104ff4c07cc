import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppliedChangeRow } from './plan-history.ts';
import { groupSpans, type SpanRow, type SubscriptionSpan, spanAt } from './usage-context.ts';
import { windowAt } from './windows.ts';

// Windows derived from the anchor in force at each event's time (issue #11): a trial's end or a change of
// cycle moves the anchor, and the windows before it must stay as they were.
const at = (iso: string, deltaMs = 0) => new Date(new Date(iso).getTime() + deltaMs);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function row(start: Date, options: { trialEnd?: Date; anchor?: Date; zone?: string } = {}): SpanRow {
  return {
    id: 's',
    tenant_id: 't',
    status: 'active',
    anchor_at: options.anchor ?? start,
    start_at: start,
    trial_end_at: options.trialEnd ?? null,
    ended_at: null,
    updated_at: start,
    time_zone: options.zone ?? 'UTC',
    currency: 'EUR',
    plan_id: 'pro',
    plan_name: 'Pro',
  };
}
const change = (kind: 'upgrade' | 'reset', effective: Date, anchor: Date | null = null): AppliedChangeRow => ({
  subscription_id: 's',
  kind,
  effective_at: effective,
  from_plan_id: 'pro',
  from_plan_name: 'Pro',
  to_plan_id: 'pro',
  to_plan_name: 'Pro',
  anchor_at: anchor,
});
const windowOf = (spans: SubscriptionSpan[], reset: string, instant: Date, zone = 'UTC') => {
  const span = spanAt(spans, instant);
  if (!span) throw new Error(`no span at ${instant.toISOString()}`);
  const window = windowAt(reset, zone, span, instant);
  return [window.start.toISOString(), window.end?.toISOString() ?? null];
};

describe('usage windows follow the anchor in force at each instant', () => {
  it('a change of cycle moves the anchor: weekly windows before it stay, the one it falls in ends there (−1 ms, 0, +1 ms)', () => {
    // Monthly bill from Fri Jan 1 2027; on Jan 6 a change to a yearly price starts the new cycle at the period end, Feb 1.
    const start = at('2027-01-01T00:00:00Z');
    const feb1 = at('2027-02-01T00:00:00Z');
    const before = groupSpans([row(start)]).get('t') ?? [];
    const after = groupSpans([row(start, { anchor: feb1 })], [change('upgrade', at('2027-01-06T00:00:00Z'), feb1)]).get('t') ?? [];
    expect(windowOf(before, 'week', at('2027-01-05T00:00:00Z'))).toEqual(['2027-01-01T00:00:00.000Z', '2027-01-08T00:00:00.000Z']);
    expect(windowOf(after, 'week', at('2027-01-05T00:00:00Z'))).toEqual(windowOf(before, 'week', at('2027-01-05T00:00:00Z')));
    expect(windowOf(after, 'week', at('2027-02-01T00:00:00Z', -1))).toEqual(['2027-01-29T00:00:00.000Z', '2027-02-01T00:00:00.000Z']);
    expect(windowOf(after, 'week', feb1)).toEqual(['2027-02-01T00:00:00.000Z', '2027-02-08T00:00:00.000Z']);
    expect(windowOf(after, 'week', at('2027-02-01T00:00:00Z', 1))).toEqual(['2027-02-01T00:00:00.000Z', '2027-02-08T00:00:00.000Z']);
    // Days and `never` do not follow the anchor.
    expect(windowOf(after, 'never', at('2027-02-01T00:00:00Z', 1))).toEqual(['2027-01-01T00:00:00.000Z', null]);
    expect(windowOf(after, 'day', feb1)).toEqual(['2027-02-01T00:00:00.000Z', '2027-02-02T00:00:00.000Z']);
  });

  it('a trial’s windows count from the start and end at the trial’s end, where the paid periods’ begin', () => {
    const start = at('2027-01-01T00:00:00Z');
    const trialEnd = at('2027-01-15T00:00:00Z');
    const trialing = groupSpans([{ ...row(start, { trialEnd }), status: 'trialing' }]).get('t') ?? [];
    const active = groupSpans([row(start, { trialEnd, anchor: trialEnd })]).get('t') ?? [];
    for (const spans of [trialing, active]) {
      expect(windowOf(spans, 'month', at('2027-01-05T00:00:00Z'))).toEqual(['2027-01-01T00:00:00.000Z', '2027-01-15T00:00:00.000Z']);
      expect(windowOf(spans, 'month', at('2027-01-15T00:00:00Z', -1))).toEqual(['2027-01-01T00:00:00.000Z', '2027-01-15T00:00:00.000Z']);
      expect(windowOf(spans, 'month', trialEnd)).toEqual(['2027-01-15T00:00:00.000Z', '2027-02-15T00:00:00.000Z']);
      expect(windowOf(spans, 'month', at('2027-02-15T00:00:00Z', 1))).toEqual(['2027-02-15T00:00:00.000Z', '2027-03-15T00:00:00.000Z']);
    }
  });

  it('an anchor a change recorded during the trial is overtaken by the trial’s end (extended later)', () => {
    const start = at('2027-01-01T00:00:00Z');
    // A yearly price chosen on Jan 3 recorded the trial's end then (Jan 15) as the new anchor; the trial was then extended to Jan 20.
    const spans =
      groupSpans(
        [{ ...row(start, { trialEnd: at('2027-01-20T00:00:00Z'), anchor: at('2027-01-15T00:00:00Z') }), status: 'trialing' }],
        [change('upgrade', at('2027-01-03T00:00:00Z'), at('2027-01-15T00:00:00Z'))],
      ).get('t') ?? [];
    expect(spans[0]?.anchors.map((a) => a.toISOString())).toEqual(['2027-01-01T00:00:00.000Z', '2027-01-20T00:00:00.000Z']);
    expect(windowOf(spans, 'week', at('2027-01-16T00:00:00Z'))).toEqual(['2027-01-15T00:00:00.000Z', '2027-01-20T00:00:00.000Z']);
  });

  it('property: an event’s window keeps its start after later history is appended; only a later cut can end it sooner', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    const entry = fc.record({
      kind: fc.constantFrom('reset' as const, 'anchor' as const),
      // When it was applied (after the previous entry) and, for an anchor, how far after that the new cycle begins.
      gapMs: fc.integer({ min: 1, max: 90 * DAY }),
      leadMs: fc.integer({ min: 0, max: 400 * DAY }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 365 * DAY }),
        fc.option(fc.integer({ min: 1, max: 40 * DAY }), { nil: undefined }),
        fc.constantFrom(...zones),
        fc.constantFrom('day', 'week', 'month', 'year', 'never'),
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        (startOffset, trialMs, zone, reset, entries, eventSeed, split) => {
          const start = new Date(Date.parse('2026-01-31T10:00:00Z') + startOffset);
          const trialEnd = trialMs === undefined ? undefined : new Date(start.getTime() + trialMs);
          let applied = start.getTime();
          const changes = entries.map((e) => {
            applied += e.gapMs;
            if (e.kind === 'reset') return change('reset', new Date(applied));
            // A change during a trial starts the new cycle when the trial ends (the period running is the trial).
            const inTrial = trialEnd !== undefined && applied < trialEnd.getTime();
            return change('upgrade', new Date(applied), inTrial ? trialEnd : new Date(applied + e.leadMs));
          });
          const cut = Math.min(split, changes.length);
          // The event happened before every entry of the appended part was applied.
          const lastKnown = cut === 0 ? start.getTime() : new Date(changes[cut - 1]?.effective_at as Date).getTime();
          const firstLater = new Date(changes[cut]?.effective_at ?? new Date(applied + DAY)).getTime();
          const instant = new Date(lastKnown + (eventSeed % Math.max(1, firstLater - lastKnown)));
          const spansOf = (known: AppliedChangeRow[]) => {
            // The row holds the latest anchor: the last change's, or the trial's end once the trial is over.
            const anchors = known.filter((c) => c.anchor_at !== null).map((c) => c.anchor_at as Date);
            const anchor = anchors.at(-1) ?? trialEnd ?? start;
            return groupSpans([row(start, { trialEnd, anchor, zone })], known).get('t') ?? [];
          };
          const before = windowOf(spansOf(changes.slice(0, cut)), reset, instant, zone);
          const after = windowOf(spansOf(changes), reset, instant, zone);
          expect(after[0]).toBe(before[0]);
          if (after[1] !== before[1]) {
            // Only an appended reset or new anchor, after the event, may end the window sooner.
            const cuts = changes.slice(cut).map((c) => new Date((c.anchor_at ?? c.effective_at) as Date).toISOString());
            expect(cuts).toContain(after[1]);
            expect(Date.parse(after[1] as string)).toBeGreaterThan(instant.getTime());
            expect(before[1] === null || Date.parse(after[1] as string) < Date.parse(before[1] as string)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
