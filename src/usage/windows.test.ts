import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SubscriptionSpan } from './usage-context.ts';
import { closesAt, windowAt } from './windows.ts';

const at = (iso: string, deltaMs = 0) => new Date(new Date(iso).getTime() + deltaMs);
const span = (anchor: string, end: string | null = null, zone = 'UTC'): SubscriptionSpan => ({
  id: 's',
  planId: 'p',
  planName: 'plan',
  anchors: [new Date(anchor)],
  start: new Date(anchor),
  end: end ? new Date(end) : null,
  zone,
  currency: 'EUR',
  segment: { start: new Date(anchor), end: null },
  resetAt: null,
  nextResetAt: null,
});
const iso = (window: { start: Date; end: Date | null }) => [window.start.toISOString(), window.end?.toISOString() ?? null];

describe('usage windows on both sides of each edge (−1 ms, 0, +1 ms)', () => {
  it('a daily reset is the local day in a non-UTC zone (Asia/Kolkata, +05:30)', () => {
    const sub = span('2026-01-05T08:00:00Z');
    const midnight = '2026-03-09T18:30:00Z'; // 2026-03-10 00:00 in Kolkata
    expect(iso(windowAt('day', 'Asia/Kolkata', sub, at(midnight, -1)))).toEqual([
      '2026-03-08T18:30:00.000Z',
      midnight.replace('Z', '.000Z'),
    ]);
    expect(iso(windowAt('day', 'Asia/Kolkata', sub, at(midnight)))).toEqual([midnight.replace('Z', '.000Z'), '2026-03-10T18:30:00.000Z']);
    expect(iso(windowAt('day', 'Asia/Kolkata', sub, at(midnight, 1)))).toEqual([
      midnight.replace('Z', '.000Z'),
      '2026-03-10T18:30:00.000Z',
    ]);
  });

  it('a daily reset across a DST change lasts 23 hours (Europe/Berlin, 2026-03-29)', () => {
    const day = windowAt('day', 'Europe/Berlin', span('2026-01-01T00:00:00Z'), at('2026-03-29T12:00:00Z'));
    expect(iso(day)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
  });

  it('a monthly window anchored on the 31st runs Jan 31 → Feb 28 → Mar 31 → Apr 30', () => {
    const sub = span('2026-01-31T10:00:00Z');
    const edges = ['2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z', '2026-04-30T10:00:00.000Z'];
    let previous = '2026-01-31T10:00:00.000Z';
    for (const edge of edges) {
      expect(iso(windowAt('month', 'UTC', sub, at(edge, -1)))).toEqual([previous, edge]);
      const next = windowAt('month', 'UTC', sub, at(edge));
      expect(next.start.toISOString()).toBe(edge);
      expect(iso(windowAt('month', 'UTC', sub, at(edge, 1)))).toEqual(iso(next));
      previous = edge;
    }
  });

  it('a monthly window follows the anchor in the billing zone (local Jan 31 in New York)', () => {
    const sub = span('2026-02-01T04:00:00Z', null, 'America/New_York'); // 2026-01-31 23:00 in New York
    expect(iso(windowAt('month', 'America/New_York', sub, at('2026-03-01T03:59:59.999Z')))).toEqual([
      '2026-02-01T04:00:00.000Z',
      '2026-03-01T04:00:00.000Z', // Feb 28 23:00 EST
    ]);
    expect(windowAt('month', 'America/New_York', sub, at('2026-03-01T04:00:00Z')).end?.toISOString()).toBe('2026-04-01T03:00:00.000Z'); // Mar 31 23:00 EDT
  });

  it('weekly and yearly windows follow the anchor; `never` lasts the subscription', () => {
    const sub = span('2024-02-29T00:00:00Z');
    expect(iso(windowAt('week', 'UTC', sub, at('2024-03-07T00:00:00Z', -1)))).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2024-03-07T00:00:00.000Z',
    ]);
    expect(windowAt('week', 'UTC', sub, at('2024-03-07T00:00:00Z')).start.toISOString()).toBe('2024-03-07T00:00:00.000Z');
    expect(iso(windowAt('year', 'UTC', sub, at('2025-02-28T00:00:00Z', -1)))).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
    ]);
    expect(windowAt('year', 'UTC', sub, at('2025-02-28T00:00:00Z')).start.toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(windowAt('year', 'UTC', sub, at('2028-02-29T00:00:00Z')).start.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(iso(windowAt('never', 'UTC', sub, at('2030-01-01T00:00:00Z')))).toEqual(['2024-02-29T00:00:00.000Z', null]);
  });

  it('a window closes to late events the grace after its end, or after the subscription for `never`', () => {
    const sub = span('2026-01-31T10:00:00Z', '2026-06-01T00:00:00Z');
    const window = windowAt('month', 'UTC', sub, at('2026-02-01T00:00:00Z'));
    expect(closesAt(window, sub, 3_600_000)).toBe(at('2026-02-28T11:00:00Z').getTime());
    expect(closesAt(windowAt('never', 'UTC', sub, at('2026-02-01T00:00:00Z')), sub, 0)).toBe(at('2026-06-01T00:00:00Z').getTime());
    const open = span('2026-01-01T00:00:00Z');
    expect(closesAt(windowAt('never', 'UTC', open, at('2026-02-01T00:00:00Z')), open, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('every instant falls in exactly one window, and windows of one reset tile without gap or overlap', () => {
    const zones = ['UTC', 'Asia/Kolkata', 'Australia/Adelaide', 'America/New_York', 'Europe/Berlin', 'Pacific/Chatham'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 3 * 365 * 86_400_000 }),
        fc.constantFrom('day', 'week', 'month', 'year'),
        fc.constantFrom(...zones),
        (anchor, offset, reset, zone) => {
          const sub = span(anchor.toISOString(), null, zone);
          const instant = new Date(anchor.getTime() + offset);
          const window = windowAt(reset, zone, sub, instant);
          const end = window.end as Date;
          expect(window.start.getTime()).toBeLessThanOrEqual(instant.getTime());
          expect(end.getTime()).toBeGreaterThan(instant.getTime());
          expect(windowAt(reset, zone, sub, new Date(end.getTime())).start.getTime()).toBe(end.getTime());
          expect(windowAt(reset, zone, sub, new Date(window.start.getTime() - 1)).end?.getTime()).toBe(window.start.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});
