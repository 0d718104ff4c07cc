-- The event log: everything worth telling, written in the transaction of the change.
-- Events get their feed position from a single sequencer after they commit, so a
-- reader paging by position never misses one and never sees one twice.

create table events (
  id uuid primary key,
  type text not null,
  -- No foreign keys: the log outlives what it describes.
  product_id uuid,
  tenant_id uuid,
  tenant_seq bigint,
  occurred_at timestamptz not null default now(),
  data jsonb not null,
  position bigint unique
);
create index events_unsequenced_idx on events (id) where position is null;
create index events_product_idx on events (product_id, position);
create index events_tenant_idx on events (tenant_id, position);
create index events_type_idx on events (type, position);

alter table tenants add column event_seq bigint not null default 0;
