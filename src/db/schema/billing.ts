import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: plan changes (migration 0012, ADR 0009). */

export interface SubscriptionChangesTable {
  id: string;
  subscription_id: string;
  product_id: string;
  tenant_id: string;
  kind: string;
  timing: string;
  from_price_id: string;
  to_price_id: string;
  status: string;
  effective_at: Timestamp;
  period_number: number | null;
  report_due_at: Date | null;
  proration: Json | null;
  invoice_id: string | null;
  failure_reason: Json | null;
  reason: string | null;
  requested_by_type: string;
  requested_by_id: string;
  resolved_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Defaulted<number>;
}
