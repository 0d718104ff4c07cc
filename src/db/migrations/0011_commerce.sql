-- Commerce core (issue #10, ADR 0008): billing settings per product, trial days per price, subscriptions and
-- their periods, invoices with lines, gapless invoice numbers, payments. Every "exactly once" is a unique key.

-- A product's billing settings; a product without a row bills with the defaults.
create table product_billing (
  product_id uuid primary key references products (id) on delete cascade,
  time_zone text not null default 'UTC',
  trial_will_end_days integer not null default 3 check (trial_will_end_days between 0 and 365),
  -- A sandbox product's commerce clock runs `clock_offset_ms` ahead of real time, and only ever further ahead.
  sandbox boolean not null default false,
  clock_offset_ms bigint not null default 0 check (clock_offset_ms >= 0),
  check (sandbox or clock_offset_ms = 0),
  version integer not null default 1,
  updated_at timestamptz not null default now()
);

alter table plan_prices add column trial_days integer not null default 0 check (trial_days between 0 and 730);

create table subscriptions (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  price_id uuid not null references plan_prices (id),
  -- Stored, never derived from dates at read time.
  status text not null check (status in ('pending', 'trialing', 'active', 'past_due', 'canceled', 'expired')),
  -- The price's cycle, amount and currency when subscribed (null cycle: `unlimited`, one period for ever).
  cycle_unit text check (cycle_unit in ('day', 'week', 'month', 'year')),
  cycle_count integer check (cycle_count between 1 and 3650),
  amount_minor bigint not null check (amount_minor >= 0),
  currency text not null,
  time_zone text not null,
  -- Boundary of period p is anchor + (p - anchor_number) cycles; a trial moves the anchor to its end.
  anchor_at timestamptz not null,
  anchor_number integer not null default 0,
  start_at timestamptz not null,
  trial_end_at timestamptz,
  trial_notice_at timestamptz,
  trial_notice_sent boolean not null default false,
  auto_renew boolean not null default true,
  cancel_at timestamptz,
  ended_at timestamptz,
  current_period_number integer,
  current_period_start timestamptz,
  current_period_end timestamptz,
  -- When the renewals sweep must look at it next (start, trial notice, trial end, period end, retry); null: never.
  next_action_at timestamptz,
  renewal_failures integer not null default 0,
  renewal_failed_at timestamptz,
  renewal_error text,
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((cycle_unit is null) = (cycle_count is null))
);
create unique index subscriptions_one_live on subscriptions (tenant_id) where status in ('pending', 'trialing', 'active', 'past_due');
create index subscriptions_due_idx on subscriptions (next_action_at, id) where next_action_at is not null;
create index subscriptions_product_idx on subscriptions (product_id, id);
create index subscriptions_tenant_idx on subscriptions (tenant_id, id);

create table subscription_periods (
  id uuid primary key,
  subscription_id uuid not null references subscriptions (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  number integer not null,
  -- Half-open [start_at, end_at); null end: an `unlimited` price's one period.
  start_at timestamptz not null,
  end_at timestamptz,
  price_id uuid not null references plan_prices (id),
  amount_minor bigint not null check (amount_minor >= 0),
  currency text not null,
  trial boolean not null default false,
  created_at timestamptz not null,
  unique (subscription_id, number),
  check (end_at is null or end_at > start_at)
);

-- Per-product invoice numbers without gaps: the row is locked by the transaction that finalizes.
create table invoice_counters (
  product_id uuid primary key references products (id) on delete cascade,
  last_number bigint not null default 0
);

create table invoices (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  subscription_id uuid references subscriptions (id) on delete cascade,
  -- One invoice per period, by construction.
  period_id uuid unique references subscription_periods (id) on delete cascade,
  status text not null check (status in ('draft', 'open', 'paid', 'void')),
  number bigint,
  currency text not null,
  total_minor bigint not null default 0,
  paid_minor bigint not null default 0 check (paid_minor >= 0),
  finalized_at timestamptz,
  paid_at timestamptz,
  voided_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (product_id, number),
  check ((number is null) = (finalized_at is null)),
  check (status = 'draft' or status = 'void' or number is not null)
);
create index invoices_tenant_idx on invoices (tenant_id, id);
create index invoices_product_idx on invoices (product_id, id);
create index invoices_subscription_idx on invoices (subscription_id) where subscription_id is not null;

create table invoice_lines (
  id uuid primary key,
  invoice_id uuid not null references invoices (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  kind text not null check (kind in ('period', 'proration', 'bill', 'usage', 'manual')),
  -- What the line bills (`period:<id>`, `bill:<id>`…): one line per source, ever.
  source_key text not null unique,
  description text not null,
  quantity numeric not null default 1,
  amount_minor bigint not null,
  currency text not null,
  period_start timestamptz,
  period_end timestamptz,
  created_at timestamptz not null
);
create index invoice_lines_invoice_idx on invoice_lines (invoice_id);

create table payments (
  id uuid primary key,
  invoice_id uuid not null references invoices (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  provider text not null,
  reference text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  received_at timestamptz not null,
  created_at timestamptz not null,
  unique (provider, reference)
);
create index payments_invoice_idx on payments (invoice_id);
