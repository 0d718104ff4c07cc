import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newId } from '../platform/ids.ts';
import type { OutboundResult } from '../platform/outbound.ts';
import { DEFAULT_HEALTH_CHECK } from '../products/products.schemas.ts';
import {
  addTotals,
  bucketOf,
  countProbe,
  emptyTotals,
  type HealthPosition,
  hourOf,
  judgeProbe,
  LATENCY_BOUNDS_MS,
  nextHealth,
  nextProbeAt,
  nextSlot,
  PROBE_BODY_CAP,
  percentileOf,
  summarize,
} from './health.rules.ts';

const answered = (status: number, extra: Partial<Extract<OutboundResult, { ok: true }>> = {}): OutboundResult => ({
  ok: true,
  status,
  headers: {},
  body: '',
  truncated: false,
  durationMs: 12,
  ...extra,
});

describe('judgeProbe', () => {
  it('calls only a 2xx with a body under the cap healthy, and says why anything else is not', () => {
    expect(judgeProbe(answered(200))).toEqual({ healthy: true, status: 200, latencyMs: 12, error: null });
    expect(judgeProbe(answered(204)).healthy).toBe(true);
    expect(judgeProbe(answered(500)).error).toBe('answered 500');
    expect(judgeProbe(answered(404)).error).toBe('answered 404');
    expect(judgeProbe(answered(101)).healthy).toBe(false);
    expect(judgeProbe(answered(301, { headers: { location: 'https://elsewhere/' } })).error).toBe(
      'answered 301, a redirect to https://elsewhere/ (redirects are not followed)',
    );
    expect(judgeProbe(answered(200, { truncated: true })).error).toBe(`answered 200 with a body larger than ${PROBE_BODY_CAP} bytes`);
    expect(judgeProbe({ ok: false, code: 'ECONNREFUSED', error: 'connection refused', durationMs: 1 })).toEqual({
      healthy: false,
      status: null,
      latencyMs: 1,
      error: 'connection refused',
    });
    expect(judgeProbe({ ok: false, code: 'ERR_INVALID_URL', error: 'not a valid URL', durationMs: 0 }).error).toBe(
      'the health-check URL is not a valid URL',
    );
  });
});

/** Runs a sequence of probe outcomes through the rules from `unknown`. */
function replay(outcomes: boolean[], threshold: number) {
  let position: HealthPosition = { state: 'unknown', failures: 0 };
  const changes: string[] = [];
  for (const healthy of outcomes) {
    const next = nextHealth(position, healthy, threshold);
    if (next.change) changes.push(next.change);
    position = { state: next.state, failures: next.failures };
  }
  return { position, changes };
}

/** The runs of consecutive failures in a sequence. */
const failureRuns = (outcomes: boolean[]) =>
  outcomes
    .map((healthy) => (healthy ? '.' : 'x'))
    .join('')
    .split('.')
    .filter(Boolean)
    .map((run) => run.length);

describe('nextHealth', () => {
  const sequences = fc.record({ outcomes: fc.array(fc.boolean(), { maxLength: 60 }), threshold: fc.integer({ min: 1, max: 6 }) });

  it('declares one outage per run of at least `threshold` failures, and only then', () => {
    fc.assert(
      fc.property(sequences, ({ outcomes, threshold }) => {
        const { changes } = replay(outcomes, threshold);
        const outages = failureRuns(outcomes).filter((length) => length >= threshold).length;
        expect(changes.filter((change) => change === 'unavailable')).toHaveLength(outages);
      }),
    );
  });

  it('recovers exactly at the first success after failures, and ends where the last outcome says', () => {
    fc.assert(
      fc.property(sequences, ({ outcomes, threshold }) => {
        const { position, changes } = replay(outcomes, threshold);
        const recoveries = outcomes.filter((healthy, index) => healthy && outcomes[index - 1] === false).length;
        expect(changes.filter((change) => change === 'recovered')).toHaveLength(recoveries);
        if (outcomes.length === 0) expect(position.state).toBe('unknown');
        else if (outcomes.at(-1)) expect(position).toEqual({ state: 'healthy', failures: 0 });
        else expect(['suspect', 'unavailable']).toContain(position.state);
        // Each change is a real change of state: never two `suspect` or two `unavailable` in a row.
        for (let index = 1; index < changes.length; index++) expect(changes[index]).not.toBe(changes[index - 1]);
      }),
    );
  });
});

describe('scheduling', () => {
  const uuids = fc.uuid();
  it('puts the next slot within one interval, at the same phase every interval', () => {
    fc.assert(
      fc.property(uuids, fc.integer({ min: 0, max: 2 ** 42 }), fc.integer({ min: 1, max: 86_400 }), (id, now, seconds) => {
        const interval = seconds * 1000;
        const slot = nextSlot(now, id, interval);
        expect(slot).toBeGreaterThan(now);
        expect(slot).toBeLessThanOrEqual(now + interval);
        expect(nextSlot(slot, id, interval)).toBe(slot + interval);
        expect(nextSlot(slot - 1, id, interval)).toBe(slot);
      }),
    );
  });

  it('spreads tenants evenly over the interval', () => {
    const interval = 60_000;
    const buckets = new Array(10).fill(0);
    // Real ids (UUIDv7: time-ordered, random tail), as tenants get them.
    for (let index = 0; index < 10_000; index++) buckets[Math.floor((nextSlot(0, newId(), interval) - 1) / (interval / 10))] += 1;
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });

  it('rechecks a suspect or unavailable tenant at its own cadence', () => {
    const settings = { ...DEFAULT_HEALTH_CHECK, recheckSeconds: 7, unavailableRecheckSeconds: 30 };
    expect(nextProbeAt(1000, '00000000-0000-7000-8000-000000000000', 'suspect', settings)).toBe(8000);
    expect(nextProbeAt(1000, '00000000-0000-7000-8000-000000000000', 'unavailable', settings)).toBe(31_000);
    expect(nextProbeAt(1000, '00000000-0000-7000-8000-000000000000', 'healthy', settings)).toBe(60_000);
  });
});

describe('probe totals', () => {
  const settings = { ...DEFAULT_HEALTH_CHECK, intervalSeconds: 60, unavailableRecheckSeconds: 60 };

  it('weighs each probe by the time since the previous one, capped, so a pause is not counted', () => {
    let totals = countProbe(emptyTotals(), { healthy: true, latencyMs: 30, atMs: 0, previousAtMs: null }, settings);
    totals = countProbe(totals, { healthy: false, latencyMs: 5000, atMs: 60_000, previousAtMs: 0 }, settings);
    totals = countProbe(totals, { healthy: true, latencyMs: 40, atMs: 10 * 3_600_000, previousAtMs: 60_000 }, settings);
    expect(totals).toMatchObject({ probes: 3, failures: 1, observedMs: 60_000 + 60_000 + 120_000, downMs: 60_000, latencySumMs: 70 });
    expect(summarize(totals)).toEqual({ uptime: 0.75, probes: 3, failures: 1, latencyMs: { mean: 35, p50: 50, p95: 50, p99: 50 } });
  });

  it('adds up the same in any grouping, and reads percentiles as bucket bounds', () => {
    const latencies = fc.array(fc.integer({ min: 0, max: 130_000 }), { minLength: 1, maxLength: 50 });
    fc.assert(
      fc.property(latencies, latencies, (a, b) => {
        const total = (values: number[]) =>
          values.reduce(
            (sum, latencyMs, index) => countProbe(sum, { healthy: true, latencyMs, atMs: index, previousAtMs: null }, settings),
            emptyTotals(),
          );
        expect(addTotals(total(a), total(b))).toEqual(total([...a, ...b]));
        const sorted = [...a].sort((x, y) => x - y);
        const p50 = percentileOf(total(a).latencyHist, 50) as number;
        const exact = sorted[Math.ceil(0.5 * sorted.length) - 1] as number;
        expect(p50).toBe(LATENCY_BOUNDS_MS[Math.min(bucketOf(exact), LATENCY_BOUNDS_MS.length - 1)]);
      }),
    );
    expect(summarize(emptyTotals())).toEqual({ uptime: null, probes: 0, failures: 0, latencyMs: null });
  });

  it('knows the hour a time falls in', () => {
    expect(hourOf(Date.UTC(2026, 0, 1, 10, 59, 59, 999))).toBe(Date.UTC(2026, 0, 1, 10));
    expect(hourOf(Date.UTC(2026, 0, 1, 11))).toBe(Date.UTC(2026, 0, 1, 11));
  });
});
