import type { TenantHealthView } from './health.schemas.ts';

/**
 * The columns of `tenant_health` a tenant read carries, joined (left) onto the tenant
 * query in `tenants.repo.ts`, so `GET /v1/tenants/{tenant}` stays one statement.
 */
export const HEALTH_COLUMNS = [
  'tenant_health.watched as health_watched',
  'tenant_health.state as health_state',
  'tenant_health.state_since as health_since',
  'tenant_health.last_probe_at as health_last_probe_at',
  'tenant_health.last_latency_ms as health_latency_ms',
  'tenant_health.last_status as health_last_status',
  'tenant_health.consecutive_failures as health_failures',
  'tenant_health.last_error as health_last_error',
  'tenant_health.next_probe_at as health_next_probe_at',
  'tenant_health.paused as health_paused',
  'tenant_health.paused_reason as health_paused_reason',
  'tenant_health.product_paused as health_product_paused',
  'tenant_health.url_override as health_url_override',
  'tenant_health.outage_id as health_outage_id',
] as const;

/** The health columns of a tenant record (all null when the tenant was never live). */
export interface HealthColumns {
  health_watched: boolean | null;
  health_state: string | null;
  health_since: Date | null;
  health_last_probe_at: Date | null;
  health_latency_ms: number | null;
  health_last_status: number | null;
  health_failures: number | null;
  health_last_error: string | null;
  health_next_probe_at: Date | null;
  health_paused: boolean | null;
  health_paused_reason: string | null;
  health_product_paused: boolean | null;
  health_url_override: string | null;
  health_outage_id: string | null;
}

/** The API view of a tenant's health; null when it is not watched (not live). */
export function toHealthView(record: HealthColumns): TenantHealthView | null {
  if (!record.health_watched || !record.health_state || !record.health_since) return null;
  const paused = Boolean(record.health_paused || record.health_product_paused);
  return {
    state: record.health_state as TenantHealthView['state'],
    since: record.health_since.toISOString(),
    lastProbeAt: record.health_last_probe_at?.toISOString() ?? null,
    latencyMs: record.health_latency_ms,
    lastStatus: record.health_last_status,
    consecutiveFailures: record.health_failures ?? 0,
    lastError: record.health_last_error,
    nextProbeAt: paused ? null : (record.health_next_probe_at?.toISOString() ?? null),
    paused,
    pausedReason: record.health_paused ? record.health_paused_reason : record.health_product_paused ? 'the product is paused' : null,
    url: record.health_url_override,
    outageId: record.health_outage_id,
  };
}
