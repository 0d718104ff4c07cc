import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { urlTemplateProblem } from '../platform/url-template.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import type { TenantRecord } from '../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import * as repo from './health.repo.ts';
import { addTotals, emptyTotals, hourOf, summarize } from './health.rules.ts';
import type { TenantHealthView } from './health.schemas.ts';
import { toHealthView } from './health.view.ts';
import { createApiKeyCache, sendProbe, targetOf } from './probe.ts';
import { NO_URL, recordProbeOutcomes } from './probe-results.ts';
import { claimProbe } from './probes.repo.ts';

/** What health operations need beyond the database. */
export interface HealthDeps {
  clock: Clock;
  box: SecretBox;
  /** For an operator's "probe now". */
  http: OutboundHttp;
  nodeId: string;
}

const HOUR_MS = 3_600_000;
const WINDOWS = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 } as const;

/** A tenant's health report: current state, uptime and latency over 24 h / 7 d / 30 d, recent changes and failed probes. */
export async function tenantHealthReport(db: Db, principal: Principal, ref: string, now: Date) {
  const tenant = await getVisibleTenant(db, principal, ref);
  const currentHour = hourOf(now.getTime());
  const oldest = currentHour - (WINDOWS['30d'] - 1) * HOUR_MS;
  const [row, hourly, changes, probes] = await Promise.all([
    repo.findHealthRow(db, tenant.id),
    repo.findHourlyTotals(db, tenant.id, new Date(oldest)),
    repo.findHealthChanges(db, tenant.id, 20),
    repo.findRecentProbes(db, tenant.id, 20),
  ]);
  // The current hour's totals are still on the health row; they count like any finished hour.
  const hours = hourly.map((entry) => ({
    at: entry.hour.getTime(),
    totals: {
      probes: entry.probes,
      failures: entry.failures,
      observedMs: entry.observed_ms,
      downMs: entry.down_ms,
      latencySumMs: entry.latency_sum_ms,
      latencyHist: entry.latency_hist,
    },
  }));
  if (row?.acc_hour && row.acc_probes > 0) {
    hours.push({
      at: row.acc_hour.getTime(),
      totals: {
        probes: row.acc_probes,
        failures: row.acc_failures,
        observedMs: row.acc_observed_ms,
        downMs: row.acc_down_ms,
        latencySumMs: row.acc_latency_sum_ms,
        latencyHist: row.acc_latency_hist,
      },
    });
  }
  const windowOf = (hoursBack: number) => {
    const start = currentHour - (hoursBack - 1) * HOUR_MS;
    return summarize(hours.filter((hour) => hour.at >= start).reduce((sum, hour) => addTotals(sum, hour.totals), emptyTotals()));
  };
  return {
    tenant: { id: tenant.id, name: tenant.name },
    current: toHealthView(tenant),
    uptime: { '24h': windowOf(WINDOWS['24h']), '7d': windowOf(WINDOWS['7d']), '30d': windowOf(WINDOWS['30d']) },
    changes: changes.map((change) => ({
      at: change.at.toISOString(),
      change: change.action ?? '',
      from: change.from_status ?? '',
      to: change.to_status ?? '',
      detail: change.detail,
    })),
    recentProbes: probes.map((probe) => ({
      at: probe.at.toISOString(),
      ok: probe.ok,
      status: probe.status,
      latencyMs: probe.latency_ms,
      error: probe.error,
      state: probe.state,
    })),
  };
}

/** What an operator set on a tenant's health, for the audit record. */
const controlsOf = (record: TenantRecord) => ({
  paused: record.health_paused ?? false,
  pausedReason: record.health_paused_reason,
  url: record.health_url_override,
});

async function changeControls(db: Db, deps: HealthDeps, caller: Caller, ref: string, action: string, controls: repo.HealthControls) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  // The tenant row is locked first, as a lifecycle transition does, before its health row.
  const before = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  await repo.updateHealthControls(db, before, controls, deps.clock.now());
  const after = await getVisibleTenant(db, caller.principal, before.id);
  await insertAuditRecord(db, caller.actor, {
    action,
    objectType: 'tenant',
    objectId: before.id,
    productId: before.product_id,
    before: { health: controlsOf(before) },
    after: { health: controlsOf(after) },
  });
  return after;
}

/** Pauses (maintenance) or resumes probing of one tenant; a resumed live tenant is probed at once. */
export async function setTenantPaused(db: Db, deps: HealthDeps, caller: Caller, ref: string, paused: boolean, reason?: string) {
  return changeControls(db, deps, caller, ref, paused ? 'tenant.health_pause' : 'tenant.health_resume', {
    paused,
    pausedReason: reason ?? null,
  });
}

/** Sets (or with null, removes) a tenant's own health-check URL; it is probed as an untrusted URL. */
export async function setTenantHealthUrl(db: Db, deps: HealthDeps, caller: Caller, ref: string, url: string | null) {
  const problem = url === null ? undefined : urlTemplateProblem(url);
  if (problem) throw new AppError('request.invalid', { message: `url ${problem}`, parameter: 'url' });
  return changeControls(db, deps, caller, ref, 'tenant.health_url', { urlOverride: url });
}

/** Pauses (maintenance) or resumes probing of every tenant of a product. */
export async function setProductHealthPaused(db: Db, deps: HealthDeps, caller: Caller, ref: string, paused: boolean, reason?: string) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  // FOR UPDATE: a tenant going live at the same time waits for this and sees the flag.
  const product = await getVisibleProduct(db, caller.principal, ref, true);
  const tenants = await repo.setProductPaused(db, product, paused, deps.clock.now());
  await insertAuditRecord(db, caller.actor, {
    action: paused ? 'product.health_pause' : 'product.health_resume',
    objectType: 'product',
    objectId: product.id,
    productId: product.id,
    before: { healthPaused: product.health_paused },
    after: { healthPaused: paused, ...(reason ? { reason } : {}) },
  });
  return { product: { id: product.id, name: product.name }, paused, tenants };
}

/**
 * Probes one tenant now and records the result like any probe (state, cadence,
 * outage and its call). The tenant must be live and not paused, and not being probed
 * by a node right now (409 otherwise). The call is made outside any transaction.
 */
export async function probeTenantNow(db: Db, deps: HealthDeps, caller: Caller, ref: string) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const tenant = await getVisibleTenant(db, caller.principal, ref);
  const claimed = await claimProbe(db, { nodeId: deps.nodeId, now: deps.clock.now(), tenantId: tenant.id });
  if (!claimed) {
    const row = await repo.findHealthRow(db, tenant.id);
    if (!row?.watched) throw new AppError('health.not_watched', { parameter: 'tenant' });
    if (row.paused || row.product_paused) throw new AppError('health.paused', { parameter: 'tenant' });
    throw new AppError('health.probe_in_progress', { parameter: 'tenant' });
  }
  const target = targetOf(claimed);
  const verdict = target
    ? await sendProbe(deps.http, target, createApiKeyCache(deps.box)(claimed), claimed.settings.timeoutSeconds * 1000)
    : null;
  await db.transaction().execute(async (tx) => {
    await recordProbeOutcomes(tx, deps.nodeId, [{ probe: claimed, verdict, at: deps.clock.now() }]);
    await insertAuditRecord(tx, caller.actor, {
      action: 'tenant.health_probe',
      objectType: 'tenant',
      objectId: tenant.id,
      productId: tenant.product_id,
      after: { probe: verdict ?? { healthy: false, error: NO_URL } },
    });
  });
  const after = await getVisibleTenant(db, caller.principal, tenant.id);
  return {
    probe: verdict
      ? { ok: verdict.healthy, status: verdict.status, latencyMs: Math.round(verdict.latencyMs), error: verdict.error }
      : { ok: false, status: null, latencyMs: 0, error: NO_URL },
    health: toHealthView(after) satisfies TenantHealthView | null,
  };
}

/** Per product the caller may see: tenants by health state, and the worst of them. */
export async function healthSummary(db: Db, principal: Principal, query: { product?: string; worst?: number }) {
  const productId = query.product ? (await getVisibleProduct(db, principal, query.product)).id : principal.productId;
  const counts = await repo.countHealthByProduct(db, productId);
  const worst = await repo.findWorstTenants(
    db,
    counts.map((line) => line.id),
    query.worst ?? 10,
  );
  return counts.map((line) => ({
    product: { id: line.id, name: line.name },
    paused: line.health_paused,
    counts: { healthy: line.healthy, suspect: line.suspect, unavailable: line.unavailable, unknown: line.unknown, paused: line.paused },
    worst: worst
      .filter((tenant) => tenant.product_id === line.id)
      .map((tenant) => ({
        id: tenant.id,
        name: tenant.name,
        state: tenant.state,
        since: tenant.state_since.toISOString(),
        consecutiveFailures: tenant.consecutive_failures,
        lastError: tenant.last_error,
        lastProbeAt: tenant.last_probe_at?.toISOString() ?? null,
      })),
  }));
}
