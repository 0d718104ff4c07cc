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
