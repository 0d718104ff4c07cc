-- Events are read only once sequenced (every feed, console and replay query asks `position is not null`), yet each
-- one was entered into the position, product, tenant and type indexes twice: at its insert, under a null position
-- nobody reads, and again when the sequencer numbered it (a new row version). Partial indexes take it once, when
-- numbered. A renewal writes three events, so this is a measurable part of a renewal burst's PostgreSQL time.
-- `max(position)`, the sequencer's next number, still reads the position index: PostgreSQL asks `is not null` itself.
alter table events drop constraint events_position_key;
create unique index events_position_key on events (position) where position is not null;
drop index events_product_idx;
create index events_product_idx on events (product_id, position) where position is not null;
drop index events_tenant_idx;
create index events_tenant_idx on events (tenant_id, position) where position is not null;
drop index events_type_idx;
create index events_type_idx on events (type, position) where position is not null;
