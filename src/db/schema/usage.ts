import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: usage metering (migration 0013). */

export interface UsageEventsTable {
  product_id: string;
  producer_id: string;
  tenant_id: string;
  feature_id: string;
  quantity: number;
  occurred_at: Timestamp;
  window_start: Timestamp;
  properties: Json<Record<string, unknown>> | null;
  body_hash: Buffer;
  over_limit: Defaulted<boolean>;
  received_at: Timestamp;
}

export interface UsageTotalsTable {
  tenant_id: string;
  feature_id: string;
  window_start: Timestamp;
  window_end: Timestamp | null;
  product_id: string;
  quantity: Defaulted<number>;
  adjusted: Defaulted<number>;
  events: Defaulted<number>;
  updated_at: Timestamp;
  settled_at: Timestamp | null;
}

export interface UsageAdjustmentsTable {
  id: string;
  product_id: string;
  tenant_id: string;
  feature_id: string;
  window_start: Timestamp;
  quantity: number;
  reason: string;
  actor_type: string;
  actor_id: string;
  created_at: Timestamp;
}

export interface UsageCrossingsTable {
  tenant_id: string;
  feature_id: string;
  window_start: Timestamp;
  threshold: number;
  product_id: string;
  window_end: Timestamp | null;
  crossed_at: Timestamp;
  cleared_at: Timestamp | null;
  checked_at: Timestamp;
}
