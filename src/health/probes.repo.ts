import { sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import { epochMs, fromEpochMs, ms } from '../db/epoch-ms.ts';
import type { HealthCheckSettings } from '../products/products.schemas.ts';
import type { HealthState, ProbeTotals } from './health.rules.ts';

/** A tenant health row a node has leased for one probe, with what the probe needs. */
export interface ClaimedProbe {
  tenantId: string;
  productId: string;
  name: string;
  state: HealthState;
  failures: number;
  outageId: string | null;
  stateSince: Date;
  lastProbeAt: Date | null;
  /** The lease; the write-back only applies while the row still carries exactly this one. */
  leaseUntil: Date;
  urlOverride: string | null;
  settings: HealthCheckSettings;
  apiKeyEncrypted: Buffer | null;
  accHour: Date | null;
  acc: ProbeTotals;
}

// The lease is the probe's timeout plus 5 s: a probe only starts while a whole timeout
// is left of it (see prober.ts), so two nodes never probe one tenant at once, and a
// dead node's tenants are free again after timeout + 5 s (10 s by default, well within
// the default 60 s interval).
// The product's settings and key are not returned per row: `withProducts` reads them once per claim.

// Times come back as epoch milliseconds: cheaper to read than timestamp text, and exact.
const RETURNING = sql`h.tenant_id, h.product_id, t.name, h.state, h.consecutive_failures, h.outage_id,
  ${epochMs(sql`h.state_since`)} as state_since, ${epochMs(sql`h.last_probe_at`)} as last_probe_at,
  ${epochMs(sql`h.lease_until`)} as lease_until, h.url_override, ${epochMs(sql`h.acc_hour`)} as acc_hour, h.acc_probes,
  h.acc_failures, h.acc_observed_ms, h.acc_down_ms, h.acc_latency_sum_ms, h.acc_latency_hist`;
const LEASE = (now: Date) => sql`${now}::timestamptz + make_interval(secs => (p.health_check->>'timeoutSeconds')::int + 5)`;

interface ClaimRow {
  tenant_id: string;
  product_id: string;
  name: string;
  state: HealthState;
  consecutive_failures: number;
  outage_id: string | null;
  state_since: number;
  last_probe_at: number | null;
  lease_until: number;
  url_override: string | null;
  acc_hour: number | null;
  acc_probes: number;
  acc_failures: number;
  acc_observed_ms: number;
  acc_down_ms: number;
  acc_latency_sum_ms: number;
  acc_latency_hist: number[];
}

/** Adds each row's product settings and key, read once for all the products of a claim. */
async function withProducts(db: Db, rows: ClaimRow[]): Promise<ClaimedProbe[]> {
  if (rows.length === 0) return [];
  const ids = [...new Set(rows.map((row) => row.product_id))];
  const products = await db.selectFrom('products').select(['id', 'health_check', 'api_key_encrypted']).where('id', 'in', ids).execute();
  const byId = new Map(products.map((product) => [product.id, product]));
  return rows.flatMap((row) => {
    const product = byId.get(row.product_id);
    return product ? [toClaimed(row, product.health_check as unknown as HealthCheckSettings, product.api_key_encrypted)] : [];
  });
}

function toClaimed(row: ClaimRow, settings: HealthCheckSettings, apiKeyEncrypted: Buffer | null): ClaimedProbe {
  return {
    tenantId: row.tenant_id,
    productId: row.product_id,
    name: row.name,
    state: row.state,
    failures: row.consecutive_failures,
    outageId: row.outage_id,
    stateSince: new Date(row.state_since),
    lastProbeAt: row.last_probe_at === null ? null : new Date(row.last_probe_at),
    leaseUntil: new Date(row.lease_until),
    urlOverride: row.url_override,
    settings,
    apiKeyEncrypted,
    accHour: row.acc_hour === null ? null : new Date(row.acc_hour),
    acc: {
      probes: row.acc_probes,
      failures: row.acc_failures,
      observedMs: row.acc_observed_ms,
      downMs: row.acc_down_ms,
      latencySumMs: row.acc_latency_sum_ms,
      latencyHist: row.acc_latency_hist,
    },
  };
}

/**
 * Leases up to `limit` due rows to `nodeId`, earliest first. Rows another node is
 * claiming right now are skipped (SKIP LOCKED), rows it holds are skipped by their
 * lease; an expired lease (a dead node) makes the row claimable again.
 */
export async function claimDueProbes(db: Db, options: { nodeId: string; now: Date; limit: number }): Promise<ClaimedProbe[]> {
  const { rows } = await sql<ClaimRow>`
    update tenant_health h set lease_until = ${LEASE(options.now)}, leased_by = ${options.nodeId}
    from (
      select tenant_id from tenant_health
      where watched and not paused and not product_paused and next_probe_at <= ${options.now}
        and (lease_until is null or lease_until < ${options.now})
      order by next_probe_at limit ${options.limit}
      for update skip locked
    ) due, tenants t, products p
    where h.tenant_id = due.tenant_id and t.id = h.tenant_id and p.id = h.product_id
    returning ${RETURNING}`.execute(db);
  return withProducts(db, rows);
}

/** Leases one tenant's row now, due or not (an operator's "probe now"); undefined when it is not probed or held. */
export async function claimProbe(db: Db, options: { nodeId: string; now: Date; tenantId: string }): Promise<ClaimedProbe | undefined> {
  const { rows } = await sql<ClaimRow>`
    update tenant_health h set lease_until = ${LEASE(options.now)}, leased_by = ${options.nodeId}
    from tenants t, products p
    where h.tenant_id = ${options.tenantId} and h.watched and not h.paused and not h.product_paused
      and (h.lease_until is null or h.lease_until < ${options.now}) and t.id = h.tenant_id and p.id = h.product_id
    returning ${RETURNING}`.execute(db);
  return (await withProducts(db, rows))[0];
}

/** Gives leased rows back unprobed (a node stopping, or a probe that could not start in time). */
export async function releaseProbes(db: Db, nodeId: string, probes: readonly ClaimedProbe[]): Promise<void> {
  if (probes.length === 0) return;
  await sql`
    update tenant_health h set lease_until = null, leased_by = null
    from unnest(${probes.map((probe) => probe.tenantId)}::uuid[], ${probes.map((probe) => ms(probe.leaseUntil))}::bigint[]) as v(tenant_id, lease)
    where h.tenant_id = v.tenant_id and h.leased_by = ${nodeId} and h.lease_until = ${fromEpochMs(sql`v.lease`)}`.execute(db);
}

/** One probe's result as it is written back (see `writeProbeResults`). */
export interface ResultRow {
  tenant_id: string;
  lease: Date;
  state: HealthState;
  state_since: Date;
  failures: number;
  outage_id: string | null;
  next_probe_at: Date;
  probed_at: Date;
  latency_ms: number | null;
  status: number | null;
  error: string | null;
  acc_hour: Date | null;
  acc: ProbeTotals;
  /** The previous hour's totals, moved into tenant_probe_hourly. */
  flush: { hour: Date; totals: ProbeTotals } | null;
  /** Kept as a raw probe (a failure or a change). */
  keep_raw: boolean;
  ok: boolean;
  change: string | null;
  from_state: HealthState;
  detail: Record<string, unknown>;
}

/** Adds an hour's totals to the ones already kept for that hour (a probe may land after the hour was moved). */
export const HOURLY_MERGE = sql`
  on conflict (tenant_id, hour) do update set
    probes = t.probes + excluded.probes, failures = t.failures + excluded.failures,
    observed_ms = t.observed_ms + excluded.observed_ms, down_ms = t.down_ms + excluded.down_ms,
    latency_sum_ms = t.latency_sum_ms + excluded.latency_sum_ms,
    latency_hist = (select array_agg(coalesce(a, 0) + coalesce(b, 0) order by i)
                    from unnest(t.latency_hist, excluded.latency_hist) with ordinality as u(a, b, i))`;

/** A histogram as an array literal: the rows travel as typed arrays, and int[][] cannot be ragged. */
const histLiteral = (hist: readonly number[]) => `{${hist.join(',')}}`;

/**
 * Writes a batch of probe results in one statement: the health rows (only where this
 * node still holds the lease, the tenant is still watched and not paused), and, when
 * the batch has any, the hour totals that are complete, the raw probes worth keeping
 * and a timeline entry per change. Rows travel as typed arrays (`unnest`), far cheaper
 * for PostgreSQL to read than JSON. Returns the tenants whose results were applied.
 */
export async function writeProbeResults(db: Db, nodeId: string, results: readonly ResultRow[]): Promise<Set<string>> {
  if (results.length === 0) return new Set();
  const column = <T>(pick: (row: ResultRow) => T) => results.map(pick);
  const flushes = results.some((row) => row.flush);
  const keeps = results.some((row) => row.keep_raw);
  const changes = results.some((row) => row.change);
  const values = sql`unnest(
      ${column((row) => row.tenant_id)}::uuid[], ${column((row) => ms(row.lease))}::bigint[], ${column((row) => row.state)}::text[],
      ${column((row) => ms(row.state_since))}::bigint[], ${column((row) => row.failures)}::int[], ${column((row) => row.outage_id)}::uuid[],
      ${column((row) => ms(row.next_probe_at))}::bigint[], ${column((row) => ms(row.probed_at))}::bigint[],
      ${column((row) => row.latency_ms)}::int[], ${column((row) => row.status)}::int[], ${column((row) => row.error)}::text[],
      ${column((row) => ms(row.acc_hour))}::bigint[], ${column((row) => row.acc.probes)}::int[], ${column((row) => row.acc.failures)}::int[],
      ${column((row) => row.acc.observedMs)}::bigint[], ${column((row) => row.acc.downMs)}::bigint[],
      ${column((row) => row.acc.latencySumMs)}::bigint[], ${column((row) => histLiteral(row.acc.latencyHist))}::text[],
      ${column((row) => ms(row.flush?.hour))}::bigint[], ${column((row) => row.flush?.totals.probes ?? null)}::int[],
      ${column((row) => row.flush?.totals.failures ?? null)}::int[], ${column((row) => row.flush?.totals.observedMs ?? null)}::bigint[],
      ${column((row) => row.flush?.totals.downMs ?? null)}::bigint[], ${column((row) => row.flush?.totals.latencySumMs ?? null)}::bigint[],
      ${column((row) => (row.flush ? histLiteral(row.flush.totals.latencyHist) : null))}::text[],
      ${column((row) => row.keep_raw)}::boolean[], ${column((row) => row.ok)}::boolean[], ${column((row) => row.change)}::text[],
      ${column((row) => row.from_state)}::text[], ${column((row) => (row.change ? JSON.stringify(row.detail) : null))}::jsonb[]
    ) as u(tenant_id, lease_at, state, state_since_at, failures, outage_id, next_probe_at_at, probed_at_at, latency_ms, status, error,
      acc_hour_at, acc_probes, acc_failures, acc_observed_ms, acc_down_ms, acc_latency_sum_ms, acc_latency_hist,
      flush_hour_at, flush_probes, flush_failures, flush_observed_ms, flush_down_ms, flush_latency_sum_ms, flush_latency_hist,
      keep_raw, ok, change, from_state, detail)`;
  const rowsOf = sql`
    select tenant_id, ${fromEpochMs(sql`lease_at`)} as lease, state, ${fromEpochMs(sql`state_since_at`)} as state_since, failures,
      outage_id, ${fromEpochMs(sql`next_probe_at_at`)} as next_probe_at, ${fromEpochMs(sql`probed_at_at`)} as probed_at,
      latency_ms, status, error, ${fromEpochMs(sql`acc_hour_at`)} as acc_hour, acc_probes, acc_failures, acc_observed_ms,
      acc_down_ms, acc_latency_sum_ms, acc_latency_hist, ${fromEpochMs(sql`flush_hour_at`)} as flush_hour, flush_probes,
      flush_failures, flush_observed_ms, flush_down_ms, flush_latency_sum_ms, flush_latency_hist, keep_raw, ok, change,
      from_state, detail
    from ${values}`;
  const update = sql`
    update tenant_health h set
      state = v.state, state_since = v.state_since, consecutive_failures = v.failures, outage_id = v.outage_id,
      next_probe_at = v.next_probe_at, last_probe_at = v.probed_at, last_latency_ms = v.latency_ms,
      last_status = v.status, last_error = v.error, acc_hour = v.acc_hour, acc_probes = v.acc_probes,
      acc_failures = v.acc_failures, acc_observed_ms = v.acc_observed_ms, acc_down_ms = v.acc_down_ms,
      acc_latency_sum_ms = v.acc_latency_sum_ms, acc_latency_hist = v.acc_latency_hist::int[],
      lease_until = null, leased_by = null
    from v
    where h.tenant_id = v.tenant_id and h.leased_by = ${nodeId} and h.lease_until = v.lease
      and h.watched and not h.paused and not h.product_paused
    returning h.tenant_id`;
  // Most batches are healthy tenants staying healthy: the update alone.
  const hourly = flushes
    ? sql`, hourly as (
        insert into tenant_probe_hourly as t (tenant_id, hour, probes, failures, observed_ms, down_ms, latency_sum_ms, latency_hist)
        select v.tenant_id, v.flush_hour, v.flush_probes, v.flush_failures, v.flush_observed_ms, v.flush_down_ms,
          v.flush_latency_sum_ms, v.flush_latency_hist::int[]
        from v join done using (tenant_id) where v.flush_hour is not null
        ${HOURLY_MERGE})`
    : sql``;
  const kept = keeps
    ? sql`, kept as (
        insert into tenant_probes (tenant_id, at, ok, status, latency_ms, error, state)
        select v.tenant_id, v.probed_at, v.ok, v.status, v.latency_ms, v.error, v.state
        from v join done using (tenant_id) where v.keep_raw)`
    : sql``;
  const timeline = changes
    ? sql`, timeline as (
        insert into tenant_timeline (tenant_id, at, kind, action, from_status, to_status, actor_type, actor_id, detail)
        select v.tenant_id, v.probed_at, 'health', v.change, v.from_state, v.state, 'system', 'landlord', v.detail
        from v join done using (tenant_id) where v.change is not null)`
    : sql``;
  const rows = await executePrepared(
    db,
    sql<{ tenant_id: string }>`
    with v as (${rowsOf}), done as (${update})${hourly}${kept}${timeline}
    select tenant_id from done`,
  );
  return new Set(rows.map((row) => row.tenant_id));
}

/**
 * Locks the tenant rows of results that change availability, in id order, before
 * their health rows are written: a lifecycle transition locks the tenant first and
 * its health row second, so taking them in the same order cannot deadlock.
 */
export async function lockTenantsForChanges(db: Db, tenantIds: readonly string[]): Promise<void> {
  if (tenantIds.length === 0) return;
  await sql`select id from tenants where id = any(${[...tenantIds].sort()}::uuid[]) order by id for no key update`.execute(db);
}
