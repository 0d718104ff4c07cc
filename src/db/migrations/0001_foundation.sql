-- Landlord's foundation: its own secrets, operator keys, the product catalogue,
-- tenants, the audit log and idempotency records.

create table landlord_secrets (
  name text primary key,
  value bytea not null,
  created_at timestamptz not null default now()
);

-- Keys that sign the tokens and assertions Landlord issues; public halves are
-- published at /.well-known/jwks.json. Private keys are stored encrypted.
create table signing_keys (
  kid text primary key,
  alg text not null,
  private_key bytea not null,
  public_jwk jsonb not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);

create table products (
  id uuid primary key,
  name text not null unique check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  display_name text not null,
  api_key_encrypted bytea,
  api_key_hint text,
  webhooks jsonb not null default '{}',
  health_check jsonb not null,
  provisioning jsonb not null,
  sign_in_url text,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table api_keys (
  id uuid primary key,
  name text not null,
  role text not null check (role in ('super_admin', 'product_admin')),
  product_id uuid references products (id) on delete cascade,
  -- The key's first characters, public, used to find the row; the secret is
  -- compared against secret_hash in constant time.
  lookup text not null unique,
  secret_hash bytea not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  check ((role = 'product_admin') = (product_id is not null))
);

create table clients (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  client_id text not null unique,
  name text not null,
  secret_hash bytea not null,
  secret_expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index clients_product_idx on clients (product_id, id);

create table plans (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  display_name text not null,
  description text not null default '',
  display_order integer not null default 0,
  published boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (product_id, name)
);

create table plan_prices (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  plan_id uuid not null references plans (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  cycle text not null check (cycle in ('day', 'week', 'month', 'year', 'custom', 'unlimited')),
  custom_days integer check (custom_days between 1 and 3650),
  amount_minor bigint not null check (amount_minor >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  published boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (product_id, name),
  check ((cycle = 'custom') = (custom_days is not null))
);
create index plan_prices_plan_idx on plan_prices (plan_id, id);

create table features (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  display_name text not null,
  description text not null default '',
  type text not null check (type in ('boolean', 'number')),
  unit text,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (product_id, name)
);

create table plan_features (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  plan_id uuid not null references plans (id) on delete cascade,
  feature_id uuid not null references features (id) on delete restrict,
  -- null: unlimited (or simply "included" for a boolean feature)
  limit_value bigint check (limit_value >= 0),
  unit text,
  reset text not null default 'never' check (reset in ('never', 'day', 'week', 'month', 'year')),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (plan_id, feature_id)
);
create index plan_features_feature_idx on plan_features (feature_id);

create table specifications (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z][A-Za-z0-9_-]{0,62}$'),
  display_name text not null,
  description text not null default '',
  type text not null check (type in ('string', 'number', 'boolean', 'email', 'url')),
  required boolean not null default false,
  pattern text,
  user_editable boolean not null default true,
  published boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (product_id, name)
);

create table tenants (
  id uuid primary key,
  product_id uuid not null references products (id) on delete restrict,
  name text not null unique check (name ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
  display_name text not null,
  status text not null default 'record_created',
  -- While status is 'failure': the step that failed and the status to go back to.
  failed_step text check (failed_step in ('creation', 'activation', 'deactivation', 'deletion')),
  last_stable_status text,
  specifications jsonb not null default '{}',
  metadata jsonb not null default '{}',
  plan_price_id uuid references plan_prices (id) on delete restrict,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Ids are UUIDv7 (time-ordered), so (filter, id) indexes serve keyset pages.
create index tenants_product_idx on tenants (product_id, id);
create index tenants_status_idx on tenants (status, id);
create index tenants_product_status_idx on tenants (product_id, status, id);
create index tenants_name_prefix_idx on tenants (name text_pattern_ops);
create index tenants_display_name_prefix_idx on tenants (lower(display_name) text_pattern_ops);
create index tenants_plan_price_idx on tenants (plan_price_id) where plan_price_id is not null;

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_type text not null,
  actor_id text not null,
  action text not null,
  object_type text not null,
  object_id text not null,
  -- No foreign key: the trail outlives what it describes.
  product_id uuid,
  before jsonb,
  after jsonb,
  request_id text
);
create index audit_log_product_idx on audit_log (product_id, id);
create index audit_log_object_idx on audit_log (object_type, object_id, id);

-- Stripe-style idempotency: the first response to a key is stored and replayed.
create table idempotency_keys (
  credential text not null,
  key text not null,
  request_hash bytea not null,
  response_status integer,
  response_body bytea,
  created_at timestamptz not null default now(),
  primary key (credential, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);
