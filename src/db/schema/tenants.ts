import type { Generated } from 'kysely';
import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: Tenants, their process timeline and their health. */

export interface TenantsTable {
  id: string;
  product_id: string;
  name: string;
  display_name: string;
  status: Defaulted<string>;
  failed_step: string | null;
  last_stable_status: string | null;
  specifications: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  plan_price_id: string | null;
  step_id: string | null;
  event_seq: Defaulted<number>;
  report_due_at: Date | null;
  /** Start the deletion as soon as the tenant is inactive (asked for while it was live). */
  delete_when_inactive: Defaulted<boolean>;
  failure_reason: Json | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TenantTimelineTable {
  id: Generated<number>;
  tenant_id: string;
  at: Timestamp;
  kind: 'transition' | 'call' | 'report' | 'health';
  action: string | null;
  from_status: string | null;
  to_status: string | null;
  actor_type: string | null;
  actor_id: string | null;
  detail: Json<Record<string, unknown>>;
}

/** How far each call to a product's backend got: its last attempt whose outcome was recorded (0017). */
export interface BackendCallAttemptsTable {
  step_id: string;
  kind: string;
  finished_attempt: number;
  finished_at: Timestamp;
}

/** The health of a tenant that was ever live; also the prober's work queue (see 0004_health.sql). */
export interface TenantHealthTable {
  tenant_id: string;
  product_id: string;
  watched: Defaulted<boolean>;
  state: Defaulted<'unknown' | 'healthy' | 'suspect' | 'unavailable'>;
  state_since: Timestamp;
  consecutive_failures: Defaulted<number>;
  outage_id: string | null;
  next_probe_at: Timestamp;
  lease_until: Date | null;
  leased_by: string | null;
  last_probe_at: Date | null;
  last_latency_ms: number | null;
  last_status: number | null;
  last_error: string | null;
  paused: Defaulted<boolean>;
  paused_reason: string | null;
  product_paused: Defaulted<boolean>;
  url_override: string | null;
  acc_hour: Date | null;
  acc_probes: Defaulted<number>;
  acc_failures: Defaulted<number>;
  acc_observed_ms: Defaulted<number>;
  acc_down_ms: Defaulted<number>;
  acc_latency_sum_ms: Defaulted<number>;
  acc_latency_hist: Defaulted<number[]>;
}

/** A tenant's probe totals for one hour. */
export interface TenantProbeHourlyTable {
  tenant_id: string;
  hour: Timestamp;
  probes: number;
  failures: number;
  observed_ms: number;
  down_ms: number;
  latency_sum_ms: number;
  latency_hist: number[];
}

/** A raw probe kept for the retention window (failures and state changes). */
export interface TenantProbesTable {
  tenant_id: string;
  at: Timestamp;
  ok: boolean;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  state: string;
}
