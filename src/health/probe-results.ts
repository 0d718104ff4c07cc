import { enqueueCall, firstAttempt, tenantQueue } from '../backend-calls/call-kind.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import { newId } from '../platform/ids.ts';
import { findTenantsByIds } from '../tenants/tenants.repo.ts';
import { tenantFacts } from '../tenants/tenants.service.ts';
import { UNAVAILABLE_NOTICE } from './health.calls.ts';
import { countProbe, emptyTotals, hourOf, nextHealth, nextProbeAt, type ProbeVerdict } from './health.rules.ts';
import { type ClaimedProbe, lockTenantsForChanges, type ResultRow, writeProbeResults } from './probes.repo.ts';

/** What became of one leased row: a verdict, or null when there was nothing to call (no URL). */
export interface ProbeOutcome {
  probe: ClaimedProbe;
  verdict: ProbeVerdict | null;
  at: Date;
}

/** Why a tenant of a product without a health-check URL stays `unknown`. */
export const NO_URL = 'the product has no health-check URL';
// With nothing to call, look again hourly rather than every interval: a product without
// a URL must not cost a write per tenant per interval. (Resuming the product re-slots it.)
const NO_URL_RECHECK_MS = 3_600_000;

/** The row a probe outcome writes back: the next state, its cadence, the hour totals, and what to keep. */
export function resultRowOf(outcome: ProbeOutcome, nodeId: string): ResultRow {
  const { probe, verdict, at } = outcome;
  const atMs = at.getTime();
  const unchanged = { lease: probe.leaseUntil, acc_hour: probe.accHour, acc: probe.acc, flush: null, from_state: probe.state };
  if (!verdict) {
    // Nothing to call: health is not known, and no outage can be open.
    return {
      ...unchanged,
      tenant_id: probe.tenantId,
      state: 'unknown',
      state_since: probe.state === 'unknown' ? probe.stateSince : at,
      failures: 0,
      outage_id: null,
      next_probe_at: new Date(nextProbeAt(atMs + NO_URL_RECHECK_MS, probe.tenantId, 'unknown', probe.settings)),
      probed_at: at,
      latency_ms: null,
      status: null,
      error: NO_URL,
      keep_raw: false,
      ok: false,
      change: null,
      detail: {},
    };
  }
  const next = nextHealth({ state: probe.state, failures: probe.failures }, verdict.healthy, probe.settings.failureThreshold);
  const hour = hourOf(atMs);
  // The hour's totals live on the row until a probe lands in a later hour; then they move to the hourly table.
  const sameHour = probe.accHour?.getTime() === hour;
  const flush = !sameHour && probe.accHour && probe.acc.probes > 0 ? { hour: probe.accHour, totals: probe.acc } : null;
  const acc = countProbe(
    sameHour ? probe.acc : emptyTotals(),
    { healthy: verdict.healthy, latencyMs: verdict.latencyMs, atMs, previousAtMs: probe.lastProbeAt?.getTime() ?? null },
    probe.settings,
  );
  const outageId = next.change === 'unavailable' ? newId() : next.state === 'unavailable' ? probe.outageId : null;
  return {
    ...unchanged,
    tenant_id: probe.tenantId,
    state: next.state,
    state_since: next.state === probe.state ? probe.stateSince : at,
    failures: next.failures,
    outage_id: outageId,
    next_probe_at: new Date(nextProbeAt(atMs, probe.tenantId, next.state, probe.settings)),
    probed_at: at,
    latency_ms: Math.round(verdict.latencyMs),
    status: verdict.status,
    error: verdict.error,
    acc_hour: new Date(hour),
    acc,
    flush,
    keep_raw: !verdict.healthy || next.state !== probe.state,
    ok: verdict.healthy,
    change: next.change,
    // Only a change is kept in the timeline; the rest need not travel to the database.
    detail:
      next.change === null
        ? {}
        : {
            reason: verdict.error,
            status: verdict.status,
            latencyMs: Math.round(verdict.latencyMs),
            consecutiveFailures: next.failures,
            ...(outageId || probe.outageId ? { outageId: outageId ?? probe.outageId } : {}),
            node: nodeId,
          },
  };
}

/** Whether a result starts or ends an outage: these are events, and an outage's start is a call to the backend. */
const isOutageEdge = (row: ResultRow) => row.change === 'unavailable' || (row.change === 'recovered' && row.from_state === 'unavailable');

/**
 * Records a batch of probe outcomes. Results without a change are one statement.
 * Results that change availability are written in one transaction with the tenant
 * rows locked first; each outage's start also records `tenant.availability.unhealthy`
 * and enqueues its one `unavailable` call (idempotency key: the outage id), each
 * recovery from an outage records `tenant.availability.healthy`. Only results whose
 * lease still holds are applied, so a tenant's outage is reported once whatever the
 * number of nodes. Returns the tenants whose results were applied.
 */
export async function recordProbeOutcomes(db: Db, nodeId: string, outcomes: readonly ProbeOutcome[]): Promise<Set<string>> {
  const rows = outcomes.map((outcome) => resultRowOf(outcome, nodeId));
  const changed = rows.filter((row) => row.change !== null);
  if (changed.length === 0) return writeProbeResults(db, nodeId, rows);
  // Inside a caller's transaction (an operator's probe, with its audit record) or in one of its own.
  const inTransaction = <T>(work: (tx: Db) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
  return inTransaction(async (tx) => {
    await lockTenantsForChanges(
      tx,
      changed.map((row) => row.tenant_id),
    );
    const applied = await writeProbeResults(tx, nodeId, rows);
    // In queue order: `add_job` creates (and so locks) each call queue it is the first to use, and
    // two nodes reporting outages at once must take the shared queues in the same order.
    const edges = rows
      .filter((row) => applied.has(row.tenant_id) && isOutageEdge(row))
      .map((row) => ({ row, queue: tenantQueue(row.tenant_id) }))
      .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.row.tenant_id < b.row.tenant_id ? -1 : 1))
      .map(({ row }) => row);
    if (edges.length === 0) return applied;
    const records = new Map(
      (
        await findTenantsByIds(
          tx,
          edges.map((row) => row.tenant_id),
        )
      ).map((record) => [record.id, record]),
    );
    const startedAt = new Map(outcomes.map((outcome) => [outcome.probe.tenantId, outcome.probe]));
    for (const row of edges) {
      const record = records.get(row.tenant_id);
      if (!record) continue;
      const facts = tenantFacts(record);
      const before = startedAt.get(row.tenant_id);
      const outage =
        row.change === 'unavailable'
          ? { id: row.outage_id, startedAt: row.probed_at.toISOString() }
          : { id: before?.outageId ?? null, startedAt: before?.stateSince.toISOString() ?? null, endedAt: row.probed_at.toISOString() };
      await recordEvent(tx, {
        type: row.change === 'unavailable' ? 'tenant.availability.unhealthy' : 'tenant.availability.healthy',
        productId: record.product_id,
        tenantId: record.id,
        occurredAt: row.probed_at,
        data: { tenant: facts, health: { ...facts.health, reason: row.error }, outage },
      });
      if (row.change === 'unavailable' && row.outage_id) {
        await enqueueCall(tx, firstAttempt(UNAVAILABLE_NOTICE.name, record.id, row.outage_id));
      }
    }
    return applied;
  });
}
