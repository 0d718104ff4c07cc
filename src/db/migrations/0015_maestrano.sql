-- Marketplaces (issue #13, ADR 0012): Landlord plays the Maestrano hub for a product. Environments
-- and marketplaces with their credentials, the groups (tenants) and users they sell to with their
-- Maestrano numbers, the notices (DELETE calls) owed to the app, and the product's native one-off and
-- recurring bills (issue #10) that the account API shows as `account_bill` / `account_recurring_bill`.

-- The app's environment on the developer platform: its key and secret read the configuration endpoint.
create table marketplace_environments (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  key text not null unique,
  secret_hash bytea not null,
  created_at timestamptz not null,
  unique (product_id, name)
);

-- One marketplace the product is sold through. The API key is sealed, not only hashed: Landlord sends
-- it back to the app (the configuration endpoint, the Basic credential of its DELETE notices).
create table marketplaces (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  environment_id uuid not null references marketplace_environments (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  nid text not null,
  -- The app's own values, echoed as configured: app (host, …), sso paths, webhooks, connec.
  app jsonb not null,
  sso jsonb not null,
  webhooks jsonb not null,
  connec jsonb not null,
  -- Maestrano role → the product role it grants.
  role_mapping jsonb not null,
  api_id text not null unique,
  api_key_hash bytea not null,
  api_key_sealed bytea not null,
  created_at timestamptz not null,
  unique (product_id, name)
);

-- A tenant that came through a marketplace: a Maestrano group `cld-<number>` (the number is drawn
-- first: the tenant is named after it).
create sequence marketplace_group_numbers;
create table marketplace_groups (
  tenant_id uuid primary key references tenants (id) on delete cascade,
  marketplace_id uuid not null references marketplaces (id) on delete cascade,
  number bigint not null unique default nextval('marketplace_group_numbers'),
  email text,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  timezone text not null,
  country text,
  city text,
  has_credit_card boolean not null default false,
  deleted_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index marketplace_groups_marketplace_idx on marketplace_groups (marketplace_id, number);

-- A person met through a marketplace: a Maestrano user `usr-<number>` (one number per person).
create table marketplace_users (
  user_id uuid primary key references users (id) on delete cascade,
  number bigint generated always as identity unique,
  name text not null,
  surname text not null,
  country text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

-- The Maestrano role of a group member (its product roles are on the membership).
create table marketplace_members (
  membership_id uuid primary key references memberships (id) on delete cascade,
  role text not null check (role in ('Member', 'Power User', 'Admin', 'Super Admin'))
);

-- A DELETE the app is owed, written with its cause; its id is the call's step id. One per group deletion.
create table marketplace_notices (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  marketplace_id uuid not null references marketplaces (id) on delete cascade,
  kind text not null check (kind in ('group_deleted', 'user_removed')),
  path text not null,
  created_at timestamptz not null
);
create unique index marketplace_notices_group_once on marketplace_notices (tenant_id) where kind = 'group_deleted';

-- SP-initiated sign-ins of a marketplace's app: a pending request belongs to a provider or a marketplace.
alter table saml_requests alter column provider_id drop not null;
alter table saml_requests add column marketplace_id uuid references marketplaces (id) on delete cascade;
alter table saml_requests add constraint saml_requests_one_owner check ((provider_id is null) <> (marketplace_id is null));
create unique index saml_requests_marketplace_request on saml_requests (marketplace_id, request_id) where marketplace_id is not null;

-- Periodic charges of a tenant (PayPal-style profiles); execution k is due at start + k × frequency × period.
create table recurring_bills (
  id uuid primary key,
  number bigint generated always as identity unique,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  description text not null,
  period text not null check (period in ('day', 'week', 'semimonth', 'month', 'year')),
  frequency integer not null check (frequency >= 1),
  cycles integer check (cycles >= 1),
  initial_cents bigint not null default 0 check (initial_cents >= 0),
  start_at timestamptz not null,
  status text not null check (status in ('submitted', 'active', 'expired', 'cancelled')),
  executions integer not null default 0,
  last_execution_at timestamptz,
  next_execution_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (period <> 'semimonth' or frequency = 1),
  check (cycles is null or executions <= cycles)
);
create index recurring_bills_due_idx on recurring_bills (next_execution_at) where status in ('submitted', 'active');
create index recurring_bills_tenant_idx on recurring_bills (tenant_id, number);

-- One-off charges of a tenant, typed in or made by a recurring bill (its execution k, or its initial charge).
create table bills (
  id uuid primary key,
  number bigint generated always as identity unique,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  description text not null,
  units numeric check (units > 0),
  period_started_at timestamptz,
  period_ended_at timestamptz,
  status text not null check (status in ('submitted', 'invoiced', 'cancelled')),
  recurring_bill_id uuid references recurring_bills (id) on delete cascade,
  -- null with a recurring bill: its initial charge.
  execution integer,
  invoice_id uuid,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((period_started_at is null) = (period_ended_at is null)),
  check (period_ended_at is null or period_ended_at > period_started_at),
  check (execution is null or recurring_bill_id is not null),
  unique (recurring_bill_id, execution)
);
create index bills_tenant_idx on bills (tenant_id, number);
create index bills_submitted_idx on bills (tenant_id) where status = 'submitted';
