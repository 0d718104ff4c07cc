-- Usage metering and entitlements (ADR 0010): the events a product reports, the running
-- totals per tenant × feature × window, operators' corrections, and the threshold
-- crossings that make "limit reached" an event exactly once per window.
-- Windows are never stored as a mutable "current period": each event carries the start
-- (and end) of the window it fell in, computed from the subscription's anchor.

-- How a plan enforces a metered feature, when it warns, and what going over costs.
alter table plan_features
  add column enforcement text not null default 'soft' check (enforcement in ('soft', 'hard')),
  -- Percentages of the limit that emit an event when crossed (100: usage.limit_reached).
  add column thresholds integer[] not null default '{80,100}'
    check (cardinality(thresholds) <= 10 and 0 < all (thresholds) and 1000 >= all (thresholds)),
  -- Per unit over the limit, in the minor units of the plan price's currency; null: no overage billing.
  add column overage_unit_price_minor bigint check (overage_unit_price_minor >= 0);

-- Late events are accepted until this long after their window ended.
alter table products add column usage_grace_minutes integer not null default 60 check (usage_grace_minutes between 0 and 43200);

-- Every accepted event, once: the producer's id is its idempotency key within the product.
create table usage_events (
  product_id uuid not null references products (id) on delete cascade,
  producer_id text not null,
  tenant_id uuid not null references tenants (id) on delete cascade,
  feature_id uuid not null references features (id) on delete cascade,
  quantity bigint not null check (quantity >= 0),
  occurred_at timestamptz not null,
  window_start timestamptz not null,
  properties jsonb,
  -- SHA-256 of the event as sent (tenant id, feature, quantity, timestamp, properties): a
  -- retry with the same body is a duplicate, the same id with another body a conflict.
  body_hash bytea not null,
  -- Set when the event took its window's total past the limit (metering stays true; the product enforces).
  over_limit boolean not null default false,
  received_at timestamptz not null,
  primary key (product_id, producer_id)
);
create index usage_events_window_idx on usage_events (tenant_id, feature_id, window_start);

-- The running total of one tenant's use of one feature in one window.
create table usage_totals (
  tenant_id uuid not null references tenants (id) on delete cascade,
  feature_id uuid not null references features (id) on delete cascade,
  window_start timestamptz not null,
  -- null: the window lasts as long as the subscription (`reset: never`).
  window_end timestamptz,
  product_id uuid not null references products (id) on delete cascade,
  -- Sum of the events' quantities, and of the adjustments (signed): used = quantity + adjusted.
  quantity bigint not null default 0,
  adjusted bigint not null default 0,
  events bigint not null default 0,
  updated_at timestamptz not null,
  -- Set once the window's grace is over and its overage (if any) is invoiced: it is settled.
  settled_at timestamptz,
  primary key (tenant_id, feature_id, window_start)
);
-- The overage sweep looks only at windows not settled yet, the earliest ended first.
create index usage_totals_unsettled_idx on usage_totals (window_end) where settled_at is null and window_end is not null;

-- Operators' corrections: a signed quantity and a reason, never an edited event.
create table usage_adjustments (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  tenant_id uuid not null references tenants (id) on delete cascade,
  feature_id uuid not null references features (id) on delete cascade,
  window_start timestamptz not null,
  quantity bigint not null check (quantity <> 0),
  reason text not null check (length(reason) between 1 and 1000),
  actor_type text not null,
  actor_id text not null,
  created_at timestamptz not null
);
create index usage_adjustments_tenant_idx on usage_adjustments (tenant_id, feature_id, window_start);

-- One row per threshold crossed in a window: the key makes the crossing event happen once,
-- however many batches cross it at the same moment. `cleared_at` is set when usage leaves
-- it (new window, a higher limit, a correction); crossing it again re-arms the row.
create table usage_crossings (
  tenant_id uuid not null references tenants (id) on delete cascade,
  feature_id uuid not null references features (id) on delete cascade,
  window_start timestamptz not null,
  threshold integer not null,
  product_id uuid not null references products (id) on delete cascade,
  window_end timestamptz,
  crossed_at timestamptz not null,
  cleared_at timestamptz,
  -- When the limit sweep last asked whether usage is still past it (a new window, an upgrade, a reset).
  checked_at timestamptz not null,
  primary key (tenant_id, feature_id, window_start, threshold)
);
-- The limit sweep looks only at crossings still standing, the least recently checked first.
create index usage_crossings_open_idx on usage_crossings (checked_at) where cleared_at is null;
