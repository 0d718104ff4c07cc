-- Calls and billing (issue #10 part B, ADR 0009).

-- Plan changes: each one waits for the product's backend to confirm it (a call of kind upgrade, downgrade or
-- reset whose idempotency key is the change's id). At most one is in flight per subscription, by construction.
create table subscription_changes (
  id uuid primary key,
  subscription_id uuid not null references subscriptions (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  kind text not null check (kind in ('upgrade', 'downgrade', 'reset')),
  timing text not null check (timing in ('now', 'period_end')),
  from_price_id uuid not null references plan_prices (id),
  to_price_id uuid not null references plan_prices (id),
  -- scheduled: waits for the period's end; calling: the backend is being called; awaiting_report: it accepted
  -- (callback mode) and its report will tell; applied and failed are final.
  status text not null check (status in ('scheduled', 'calling', 'awaiting_report', 'applied', 'failed')),
  -- On the product's commerce clock: when the change was asked for to take effect (now, or the period's end).
  effective_at timestamptz not null,
  -- The period the change was asked for in; a period-end change holds the renewal into the next one until it resolves.
  period_number integer,
  -- Real time, like every report deadline.
  report_due_at timestamptz,
  -- The credit and charge lines of an immediate change, and the invoice that bills them.
  proration jsonb,
  invoice_id uuid references invoices (id) on delete set null,
  failure_reason jsonb,
  reason text,
  requested_by_type text not null,
  requested_by_id text not null,
  resolved_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null default 1,
  check (status <> 'awaiting_report' or report_due_at is not null)
);
create unique index subscription_changes_one_in_flight on subscription_changes (subscription_id)
  where status in ('scheduled', 'calling', 'awaiting_report');
create index subscription_changes_subscription_idx on subscription_changes (subscription_id, id);
create index subscription_changes_due_idx on subscription_changes (effective_at) where status = 'scheduled';
create index subscription_changes_report_due_idx on subscription_changes (report_due_at) where status = 'awaiting_report';

-- Recurring bills (Maestrano's account_recurring_bill): execution k is due at start + k × frequency × period on the
-- billing calendar; each execution is one bill, exactly once (unique (recurring_bill_id, execution) on bills).
create table recurring_bills (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  description text not null,
  period text not null check (period in ('day', 'week', 'semimonth', 'month', 'year')),
  frequency integer not null check (frequency between 1 and 365),
  cycles integer check (cycles is null or cycles >= 1),
  start_date timestamptz not null,
  initial_cents bigint not null default 0 check (initial_cents >= 0),
  time_zone text not null,
  status text not null check (status in ('submitted', 'active', 'expired', 'cancelled')),
  -- How many executions were made; the next one is number `executions`.
  executions integer not null default 0 check (executions >= 0 and (cycles is null or executions <= cycles)),
  last_execution_at timestamptz,
  next_execution_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null default 1
);
create index recurring_bills_due_idx on recurring_bills (next_execution_at) where status in ('submitted', 'active');
create index recurring_bills_tenant_idx on recurring_bills (tenant_id, id);

-- One-off bills (Maestrano's account_bill), also made by recurring bills: submitted → invoiced | cancelled.
create table bills (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  recurring_bill_id uuid references recurring_bills (id) on delete cascade,
  -- The recurring bill's execution it is (null: a one-off bill, or a recurring bill's initial charge).
  execution integer,
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  description text not null,
  units numeric not null default 1 check (units > 0),
  period_started_at timestamptz,
  period_ended_at timestamptz,
  status text not null check (status in ('submitted', 'invoiced', 'cancelled')),
  -- On the product's commerce clock: when it goes on an invoice (the subscription's next boundary, or the day's end).
  invoice_at timestamptz not null,
  invoice_id uuid references invoices (id) on delete set null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null default 1,
  unique (recurring_bill_id, execution),
  check ((period_started_at is null) = (period_ended_at is null)),
  check (period_ended_at is null or period_ended_at > period_started_at)
);
create index bills_tenant_idx on bills (tenant_id, id);
create index bills_to_invoice_idx on bills (invoice_at) where status = 'submitted';

-- The payment-provider seam: Landlord charges no cards. A product may name the provider that collects for it
-- and the secret that provider signs its events with; collection is optional (`none`: Landlord records, the
-- product collects; `automatic`: an invoice unpaid `grace_days` after it is finalized makes the subscription past_due).
create table payment_providers (
  product_id uuid primary key references products (id) on delete cascade,
  provider text not null check (provider ~ '^[a-z][a-z0-9_-]{0,39}$'),
  secret_encrypted bytea not null,
  collection text not null default 'none' check (collection in ('none', 'automatic')),
  grace_days integer not null default 7 check (grace_days between 0 and 365),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null default 1
);

-- Every provider event taken, once: a resent event is recognised by its id and changes nothing.
create table payment_events (
  product_id uuid not null references products (id) on delete cascade,
  provider text not null,
  event_id text not null,
  type text not null,
  invoice_id uuid,
  outcome text not null,
  received_at timestamptz not null,
  primary key (product_id, provider, event_id)
);
