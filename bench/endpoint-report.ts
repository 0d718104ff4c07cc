import type { Load } from './load.ts';
import { versusRow } from './stats.ts';

/** What one endpoint must reach against its bare ceiling. */
export interface EndpointAims {
  /** Landlord's req/s as a share of the bare server's, at least. */
  rate: number;
  /** Landlord's p99 latency, below, in ms. */
  p99Ms: number;
}

/** One endpoint's comparison: the rate ratio, whether each aim was met, and the table rows that show it. */
export interface EndpointComparison {
  rate: number;
  rateMet: boolean;
  p99Met: boolean;
  rows: string[][];
}

/**
 * Compares one endpoint driven on Landlord and on its bare server: rate and p99 against their aims, p50 and
 * the CPU each request costs. Shared by the single-endpoint scenarios (verify, roomle-read, entitlements) so
 * they judge and show an endpoint the same way; `what` names the endpoint in the row labels.
 */
export function compareEndpoint(what: string, load: Record<'landlord' | 'bare', Load>, aims: EndpointAims): EndpointComparison {
  const rate = load.landlord.perSecond / load.bare.perSecond;
  const rateMet = rate >= aims.rate;
  const p99Met = load.landlord.p99 < aims.p99Ms;
  const rows = [
    versusRow(`${what} — req/s`, load.landlord.perSecond, load.bare.perSecond, 0, `≥ ${aims.rate}×`, rateMet),
    versusRow(`${what} — p50 latency, ms`, load.landlord.p50, load.bare.p50, 1),
    versusRow(`${what} — p99 latency, ms`, load.landlord.p99, load.bare.p99, 1, `< ${aims.p99Ms} ms`, p99Met),
    versusRow('server CPU per request, µs', load.landlord.serverUs, load.bare.serverUs, 0),
    versusRow('PostgreSQL CPU per request, µs', load.landlord.postgresUs, load.bare.postgresUs, 0),
  ];
  return { rate, rateMet, p99Met, rows };
}
