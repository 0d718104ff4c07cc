/** The `p`-th percentile (0–100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** p50, p99 and max of a list of latencies in ms. */
export function latencies(values: readonly number[]): { p50: number; p99: number; max: number; count: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100), count: values.length };
}

/** A number for a table: at most `digits` decimals, thousands separated. */
export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** `a / b` as "0.62×", or "–" when it cannot be computed. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}

/**
 * One results-table row comparing Landlord with the bare server: label, both values, their ratio, the aim and
 * whether it was met (blank when the row carries no aim). Shared so every scenario's table reads the same.
 */
export function versusRow(label: string, landlord: number, bare: number, digits: number, aim = '', met?: boolean): string[] {
  return [label, fmt(landlord, digits), fmt(bare, digits), ratio(landlord, bare), aim, met === undefined ? '' : met ? 'met' : '**missed**'];
}

/** Runs `work` over `items` with at most `limit` running at once. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** What a closed-loop load measured: its rate and latencies. */
interface ClosedLoop {
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * Why a p99 aim was missed at `connections` in a closed loop. Each connection waits for its answer, so the mean
 * latency is connections / rate (Little's law): below the rate that puts the mean under the aim, that is the reason;
 * above it, the mean is under the aim and the tail is what misses it.
 */
export function p99Why(connections: number, aimMs: number, load: Record<'landlord' | 'bare', ClosedLoop>): string {
  const needed = (connections * 1000) / aimMs;
  const mean = (connections * 1000) / load.landlord.perSecond;
  const bare = `the bare ceiling's p99 is ${fmt(load.bare.p99, 1)} ms at ${fmt(load.bare.perSecond, 0)} req/s`;
  const little = `${connections} connections in a closed loop at ${fmt(load.landlord.perSecond, 0)} req/s mean ${fmt(mean, 1)} ms per request by Little's law`;
  if (load.landlord.perSecond < needed) {
    return `${little}; a p99 under ${aimMs} ms needs more than ${fmt(needed, 0)} req/s, and ${bare} on these shared cores (the load generator runs on them too).`;
  }
  return `${little}, under the aim: the tail misses it (p50 ${fmt(load.landlord.p50, 1)} ms, p99 ${fmt(load.landlord.p99, 1)} ms), requests queued behind a turn of the event loop, a garbage collection or the load generator and PostgreSQL taking the 2 shared cores; ${bare}.`;
}
