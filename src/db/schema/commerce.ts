import type { Defaulted, Json, Timestamp } from './columns.ts';

/** Table types: billing settings, subscriptions, periods, invoices, payments (migration 0011, ADR 0008). */

export interface ProductBillingTable {
  product_id: string;
  time_zone: Defaulted<string>;
  trial_will_end_days: Defaulted<number>;
  sandbox: Defaulted<boolean>;
  clock_offset_ms: Defaulted<number>;
  version: Defaulted<number>;
  updated_at: Timestamp;
}

export interface SubscriptionsTable {
  id: string;
  product_id: string;
  tenant_id: string;
  price_id: string;
  status: string;
  cycle_unit: string | null;
  cycle_count: number | null;
  amount_minor: number;
  currency: string;
  time_zone: string;
  anchor_at: Timestamp;
  anchor_number: Defaulted<number>;
  start_at: Timestamp;
  trial_end_at: Date | null;
  trial_notice_at: Date | null;
  trial_notice_sent: Defaulted<boolean>;
  auto_renew: Defaulted<boolean>;
  cancel_at: Date | null;
  ended_at: Date | null;
  current_period_number: number | null;
  current_period_start: Date | null;
  current_period_end: Date | null;
  next_action_at: Date | null;
  renewal_failures: Defaulted<number>;
  renewal_failed_at: Date | null;
  renewal_error: string | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SubscriptionPeriodsTable {
  id: string;
  subscription_id: string;
  product_id: string;
  tenant_id: string;
  number: number;
  start_at: Timestamp;
  end_at: Date | null;
  price_id: string;
  amount_minor: number;
  currency: string;
  trial: Defaulted<boolean>;
  created_at: Timestamp;
}

export interface InvoiceCountersTable {
  product_id: string;
  last_number: Defaulted<number>;
}

/** Whom an invoice bills: the tenant's billing profile at finalization. */
export interface BilledTo {
  name: string;
  company: string | null;
  email: string;
  address: Record<string, unknown>;
  vatId: string | null;
}

export interface InvoicesTable {
  id: string;
  product_id: string;
  tenant_id: string;
  subscription_id: string | null;
  period_id: string | null;
  status: string;
  number: number | null;
  currency: string;
  total_minor: Defaulted<number>;
  paid_minor: Defaulted<number>;
  finalized_at: Date | null;
  paid_at: Date | null;
  voided_at: Date | null;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The billing profile as it was at finalization (0016_roomle.sql). */
  billed_to: Json<BilledTo> | null;
}

export interface InvoiceLinesTable {
  id: string;
  invoice_id: string;
  product_id: string;
  kind: string;
  source_key: string;
  description: string;
  quantity: Defaulted<string>;
  amount_minor: number;
  currency: string;
  period_start: Date | null;
  period_end: Date | null;
  created_at: Timestamp;
}

export interface PaymentsTable {
  id: string;
  invoice_id: string;
  product_id: string;
  provider: string;
  reference: string;
  amount_minor: number;
  currency: string;
  received_at: Timestamp;
  created_at: Timestamp;
}
