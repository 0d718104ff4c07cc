import type { Generated } from 'kysely';
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
  /** The anchor a confirmed change moved the subscription to (migration 0020); null: it kept the anchor. */
  anchor_at: Date | null;
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

export interface RecurringBillsTable {
  id: string;
  /** Its Maestrano id `rbill-<n>` (migration 0015). */
  number: Generated<number>;
  product_id: string;
  tenant_id: string;
  price_cents: number;
  currency: string;
  description: string;
  period: string;
  frequency: number;
  cycles: number | null;
  start_date: Timestamp;
  initial_cents: Defaulted<number>;
  time_zone: string;
  status: string;
  executions: Defaulted<number>;
  last_execution_at: Date | null;
  next_execution_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Defaulted<number>;
}

export interface BillsTable {
  id: string;
  /** Its Maestrano id `bill-<n>` (migration 0015). */
  number: Generated<number>;
  product_id: string;
  tenant_id: string;
  recurring_bill_id: string | null;
  execution: number | null;
  price_cents: number;
  currency: string;
  description: string;
  units: Defaulted<string>;
  period_started_at: Date | null;
  period_ended_at: Date | null;
  status: string;
  invoice_at: Timestamp;
  invoice_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Defaulted<number>;
}

export interface PaymentProvidersTable {
  product_id: string;
  provider: string;
  secret_encrypted: Buffer;
  collection: Defaulted<string>;
  grace_days: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Defaulted<number>;
  /** Where billing-portal sessions are asked for (0016_roomle.sql); null: events only. */
  portal_session_url: string | null;
}

export interface PaymentEventsTable {
  product_id: string;
  provider: string;
  event_id: string;
  type: string;
  invoice_id: string | null;
  outcome: string;
  received_at: Timestamp;
}
