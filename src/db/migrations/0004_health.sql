-- Tenant health monitoring: the current health of every watched tenant (also the
-- prober's work queue, claimed with leases), hourly rollups of its probes, and the raw
-- probes worth keeping (failures and state changes) for a retention window.

-- One row per tenant that was ever live. `watched` is set while the tenant is live
-- (created_as_active, active); the row stays afterwards so a URL override and a pause
-- survive a deactivation.
create table tenant_health (
  tenant_id uuid primary key references tenants (id) on delete cascade,
  product_id uuid not null references products (id) on delete cascade,
  watched boolean not null default true,
  state text not null default 'unknown' check (state in ('unknown', 'healthy', 'suspect', 'unavailable')),
  state_since timestamptz not null,
  consecutive_failures integer not null default 0,
  -- The open outage: the id the `unavailable` call carries (its idempotency key).
  outage_id uuid,
  next_probe_at timestamptz not null,
  -- A node holds the row from claim to write-back; a dead node's lease simply runs out.
  lease_until timestamptz,
  leased_by text,
  last_probe_at timestamptz,
  last_latency_ms integer,
  last_status smallint,
  last_error text,
  paused boolean not null default false,
  paused_reason text,
  -- Copied from products.health_paused so the due index skips a paused product's rows.
  product_paused boolean not null default false,
  -- The tenant's own health-check URL (called as untrusted: private addresses refused).
  url_override text,
  -- The current hour's probe totals, kept on the row (written with each probe result)
  -- and moved into tenant_probe_hourly when a probe lands in a later hour.
  acc_hour timestamptz,
  acc_probes integer not null default 0,
  acc_failures integer not null default 0,
  acc_observed_ms bigint not null default 0,
  acc_down_ms bigint not null default 0,
  acc_latency_sum_ms bigint not null default 0,
  acc_latency_hist integer[] not null default '{}'
) with (fillfactor = 70);
-- Rows are rewritten twice per probe; free space on each page keeps the lease update HOT.
create index tenant_health_due_idx on tenant_health (next_probe_at) where watched and not paused and not product_paused;
-- Only troubled tenants: healthy rows (nearly all, rewritten every probe) never enter this index.
create index tenant_health_trouble_idx on tenant_health (product_id, state, state_since) where watched and state <> 'healthy';

-- Maintenance of a whole product: tenants entering a live status inherit it.
alter table products add column health_paused boolean not null default false;

-- Per tenant and hour: probes, failures, time observed and time down (each probe
-- covers the time since the previous one), and a latency histogram of healthy probes
-- (bucket bounds in src/health/health.rules.ts). No foreign key: history outlives the
-- tenant row, and inserts take no lock on tenants.
create table tenant_probe_hourly (
  tenant_id uuid not null,
  hour timestamptz not null,
  probes integer not null,
  failures integer not null,
  observed_ms bigint not null,
  down_ms bigint not null,
  latency_sum_ms bigint not null,
  latency_hist integer[] not null,
  primary key (tenant_id, hour)
);
create index tenant_probe_hourly_hour_idx on tenant_probe_hourly using brin (hour);

-- Raw probes that explain an outage: every failed probe and every probe that changed
-- the state. Healthy probes live on only in the hourly totals.
create table tenant_probes (
  tenant_id uuid not null,
  at timestamptz not null,
  ok boolean not null,
  status smallint,
  latency_ms integer,
  error text,
  state text not null
);
create index tenant_probes_tenant_idx on tenant_probes (tenant_id, at desc);
create index tenant_probes_at_idx on tenant_probes using brin (at);

-- Availability changes are kept in the tenant's timeline beside its lifecycle.
alter table tenant_timeline drop constraint tenant_timeline_kind_check;
alter table tenant_timeline add constraint tenant_timeline_kind_check check (kind in ('transition', 'call', 'report', 'health'));

-- The time of a tenant's probe slot: probes are spread over the interval by a hash of
-- the tenant id (its last 32 bits), the first slot strictly after `now_ms`.
-- health.rules.ts `nextSlot` computes the same in JavaScript.
create function landlord_health_slot(tenant uuid, now_ms bigint, interval_ms bigint) returns timestamptz
language sql immutable parallel safe as $$
  select 'epoch'::timestamptz + (now_ms + coalesce(nullif(
    ((('x' || right(tenant::text, 8))::bit(32)::bigint % interval_ms) - now_ms % interval_ms + interval_ms) % interval_ms,
    0), interval_ms)) * interval '1 millisecond'
$$;
