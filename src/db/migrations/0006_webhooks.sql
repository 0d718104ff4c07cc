-- Webhook endpoints and their deliveries. Deliveries are created from events in the
-- transaction that sequences them (the event row is the outbox), and sent by a
-- dispatcher that claims due deliveries with short leases.

create table webhook_endpoints (
  id uuid primary key,
  -- null: every product's events (super admins only).
  product_id uuid references products (id) on delete cascade,
  url text not null,
  description text not null default '',
  -- Empty: every event type.
  event_types text[] not null default '{}',
  enabled boolean not null default true,
  disabled_reason text,
  -- Deliver one tenant's events one at a time, in feed order.
  ordered boolean not null default false,
  max_concurrency integer not null default 10 check (max_concurrency between 1 and 100),
  secret_encrypted bytea not null,
  previous_secret_encrypted bytea,
  previous_secret_expires_at timestamptz,
  -- Start of the current run of failures; cleared by any success.
  failing_since timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_product_idx on webhook_endpoints (product_id, id);

create table webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity unique,
  endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
  event_id uuid not null,
  event_type text not null,
  event_position bigint not null,
  tenant_id uuid,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  lease_until timestamptz,
  leased_by text,
  last_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  unique (endpoint_id, event_id)
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, seq);
create index webhook_deliveries_ordered_idx on webhook_deliveries (endpoint_id, tenant_id, event_position) where status = 'pending';

create table webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
  at timestamptz not null,
  request_headers jsonb not null,
  response_status integer,
  response_body text,
  duration_ms integer not null,
  error text
);
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, id);
