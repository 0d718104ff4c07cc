/**
 * The rules of tenant health, as pure functions: what a probe's answer means, how
 * the state moves with each probe, when the next probe is due, and how probe totals
 * add up to uptime and latency percentiles. Everything that probes or reports health
 * goes through here; `health.rules.test.ts` proves the properties.
 */
import type { OutboundResult } from '../platform/outbound.ts';
import type { HealthCheckSettings } from '../products/products.schemas.ts';

export const HEALTH_STATES = ['unknown', 'healthy', 'suspect', 'unavailable'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** A change worth a timeline entry: the first failure, the outage, and the end of either. */
export type HealthChange = 'suspect' | 'unavailable' | 'recovered';

/** A health check's answer is read up to this size; a larger body fails the probe. */
export const PROBE_BODY_CAP = 16 * 1024;

/** What one probe found. */
export interface ProbeVerdict {
  healthy: boolean;
  /** The HTTP status, when the backend answered. */
  status: number | null;
  latencyMs: number;
  /** Why the probe failed, in words; null when healthy. */
  error: string | null;
}

/**
 * Healthy is a 2xx within the timeout with a body under the cap. Anything else fails,
 * with a reason an operator can act on: the status, a redirect (never followed), the
 * transport error, or the size.
 */
export function judgeProbe(result: OutboundResult): ProbeVerdict {
  if (!result.ok) {
    const error = result.code === 'ERR_INVALID_URL' ? 'the health-check URL is not a valid URL' : result.error;
    return { healthy: false, status: null, latencyMs: result.durationMs, error };
  }
  const base = { status: result.status, latencyMs: result.durationMs };
  if (result.status >= 300 && result.status < 400) {
    const location = result.headers.location;
    const to = typeof location === 'string' ? ` to ${location.slice(0, 200)}` : '';
    return { ...base, healthy: false, error: `answered ${result.status}, a redirect${to} (redirects are not followed)` };
  }
  if (result.status < 200 || result.status >= 300) return { ...base, healthy: false, error: `answered ${result.status}` };
  if (result.truncated)
    return { ...base, healthy: false, error: `answered ${result.status} with a body larger than ${PROBE_BODY_CAP} bytes` };
  return { ...base, healthy: true, error: null };
}

/** The part of a tenant's health the next probe result moves. */
export interface HealthPosition {
  state: HealthState;
  failures: number;
}

/**
 * The state after one probe. A success makes the tenant healthy (a recovery when it
 * was suspect or unavailable). A failure makes it suspect, and unavailable once
 * `failureThreshold` failures follow each other; it stays unavailable (no new
 * outage) until a success.
 */
export function nextHealth(
  current: HealthPosition,
  healthy: boolean,
  failureThreshold: number,
): HealthPosition & { change: HealthChange | null } {
  if (healthy) {
    const change = current.state === 'suspect' || current.state === 'unavailable' ? 'recovered' : null;
    return { state: 'healthy', failures: 0, change };
  }
  const failures = current.failures + 1;
  if (current.state === 'unavailable') return { state: 'unavailable', failures, change: null };
  if (failures >= failureThreshold) return { state: 'unavailable', failures, change: 'unavailable' };
  return { state: 'suspect', failures, change: current.state === 'suspect' ? null : 'suspect' };
}

/** The tenant's place in the interval: the last 32 bits of its id (random in a UUIDv7). */
export function phaseOf(tenantId: string): number {
  return Number.parseInt(tenantId.slice(-8), 16);
}

/**
 * The tenant's next probe slot strictly after `nowMs`: slots repeat every interval at
 * the tenant's phase, so probes stay spread over the interval even after a backlog
 * made them all due at once. The SQL function `landlord_health_slot` is the same.
 */
export function nextSlot(nowMs: number, tenantId: string, intervalMs: number): number {
  const offset = ((((phaseOf(tenantId) % intervalMs) - (nowMs % intervalMs)) % intervalMs) + intervalMs) % intervalMs;
  return nowMs + (offset === 0 ? intervalMs : offset);
}

/** When the next probe is due: the next slot while healthy, else the recheck cadence of the state. */
export function nextProbeAt(nowMs: number, tenantId: string, state: HealthState, settings: HealthCheckSettings): number {
  if (state === 'suspect') return nowMs + settings.recheckSeconds * 1000;
  if (state === 'unavailable') return nowMs + settings.unavailableRecheckSeconds * 1000;
  return nextSlot(nowMs, tenantId, settings.intervalSeconds * 1000);
}

/** Upper bounds (ms) of the latency histogram's buckets; one more bucket holds the rest. */
export const LATENCY_BOUNDS_MS = [
  5, 10, 25, 50, 75, 100, 150, 250, 400, 600, 1000, 1500, 2500, 4000, 6000, 10_000, 20_000, 60_000, 120_000,
];

/** The histogram bucket of a latency. */
export function bucketOf(latencyMs: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BOUNDS_MS.length : index;
}

/** Probe totals over some time: one hour of one tenant, or a sum of hours. */
export interface ProbeTotals {
  probes: number;
  failures: number;
  /** Time the probes covered, and the part of it that failed probes covered. */
  observedMs: number;
  downMs: number;
  /** Of healthy probes. */
  latencySumMs: number;
  latencyHist: number[];
}

/** Totals of nothing. */
export const emptyTotals = (): ProbeTotals => ({
  probes: 0,
  failures: 0,
  observedMs: 0,
  downMs: 0,
  latencySumMs: 0,
  latencyHist: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
});

/** The sum of two totals (histograms of different lengths are padded). */
export function addTotals(a: ProbeTotals, b: ProbeTotals): ProbeTotals {
  const length = Math.max(a.latencyHist.length, b.latencyHist.length, LATENCY_BOUNDS_MS.length + 1);
  return {
    probes: a.probes + b.probes,
    failures: a.failures + b.failures,
    observedMs: a.observedMs + b.observedMs,
    downMs: a.downMs + b.downMs,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    latencyHist: Array.from({ length }, (_, index) => (a.latencyHist[index] ?? 0) + (b.latencyHist[index] ?? 0)),
  };
}

/**
 * Adds one probe to totals. It covers the time since the previous probe (capped, so a
 * pause is not counted as observed), or one interval for a first probe.
 */
export function countProbe(
  totals: ProbeTotals,
  probe: { healthy: boolean; latencyMs: number; atMs: number; previousAtMs: number | null },
  settings: HealthCheckSettings,
): ProbeTotals {
  const capMs = 2 * Math.max(settings.intervalSeconds, settings.unavailableRecheckSeconds) * 1000;
  const coveredMs =
    probe.previousAtMs === null ? settings.intervalSeconds * 1000 : Math.min(capMs, Math.max(0, probe.atMs - probe.previousAtMs));
  // One array per probe (this runs thousands of times a second); stored histograms may be shorter ('{}').
  const latencyHist = emptyTotals().latencyHist;
  for (const [index, count] of totals.latencyHist.entries()) latencyHist[index] = count;
  const next = { ...totals, probes: totals.probes + 1, observedMs: totals.observedMs + coveredMs, latencyHist };
  if (probe.healthy) {
    const bucket = bucketOf(probe.latencyMs);
    next.latencySumMs += Math.max(0, Math.round(probe.latencyMs));
    latencyHist[bucket] = (latencyHist[bucket] ?? 0) + 1;
  } else {
    next.failures += 1;
    next.downMs += coveredMs;
  }
  return next;
}

/** The latency below which `p` % of healthy probes answered: the upper bound of that bucket. */
export function percentileOf(hist: readonly number[], p: number): number | null {
  const total = hist.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [index, count] of hist.entries()) {
    seen += count;
    if (seen >= rank) return LATENCY_BOUNDS_MS[index] ?? (LATENCY_BOUNDS_MS.at(-1) as number);
  }
  return LATENCY_BOUNDS_MS.at(-1) as number;
}

/** What totals say: uptime (the share of observed time not down), probes, and latency. */
export interface TotalsSummary {
  uptime: number | null;
  probes: number;
  failures: number;
  latencyMs: { mean: number; p50: number; p95: number; p99: number } | null;
}

/** Summarises totals; null uptime and latency when nothing was observed. */
export function summarize(totals: ProbeTotals): TotalsSummary {
  const healthy = totals.probes - totals.failures;
  const uptime = totals.observedMs > 0 ? Math.round((1 - totals.downMs / totals.observedMs) * 1e6) / 1e6 : null;
  const latencyMs =
    healthy > 0
      ? {
          mean: Math.round(totals.latencySumMs / healthy),
          p50: percentileOf(totals.latencyHist, 50) as number,
          p95: percentileOf(totals.latencyHist, 95) as number,
          p99: percentileOf(totals.latencyHist, 99) as number,
        }
      : null;
  return { uptime, probes: totals.probes, failures: totals.failures, latencyMs };
}

/** The start of the hour `atMs` falls in. */
export const hourOf = (atMs: number): number => atMs - (((atMs % 3_600_000) + 3_600_000) % 3_600_000);
