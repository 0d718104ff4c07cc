-- Feed positions move out of the event rows (docs/adr/0015-event-feed-positions.md). The sequencer used to number an
-- event by updating its row: a second version of about 1 KB of JSON, in the heap and the WAL, with new entries in every
-- index, for three events a renewal. Now an event is written once; its place in the feed is a narrow row of its own.

-- Each sequenced event's place: the feed reads it in position order, by product, tenant or type, and joins the event.
-- Events are never deleted (the log outlives what it describes), so the feed keeps no foreign key to them either.
create table event_feed (
  position bigint primary key,
  event_id uuid not null unique,
  product_id uuid,
  tenant_id uuid,
  type text not null
);
create index event_feed_product_idx on event_feed (product_id, position);
create index event_feed_tenant_idx on event_feed (tenant_id, position);
create index event_feed_type_idx on event_feed (type, position);

-- The events not yet sequenced, with what the sequencer needs of each (its feed row, and the one endpoint a
-- `webhook_endpoint.test` event is for): it takes them from here in id order, deleting them as it numbers them, and
-- never reads an event row.
create table events_pending (
  id uuid primary key,
  type text not null,
  product_id uuid,
  tenant_id uuid,
  target text
);

-- The one webhook endpoint an event is for: only a `webhook_endpoint.test` names one.
create function event_target(type text, data jsonb) returns text language sql immutable as $$
  select case when type = 'webhook_endpoint.test' and jsonb_typeof(data->'endpointId') = 'string' then data->>'endpointId' end
$$;

-- Every statement that writes events (the event repository's, the renewals writer's bulk insert, any other) queues
-- them here in the same statement, so none is written without being queued for the sequencer. One call per statement.
create function queue_events_for_sequencer() returns trigger language plpgsql as $$
begin
  insert into events_pending (id, type, product_id, tenant_id, target)
  select id, type, product_id, tenant_id, event_target(type, data) from inserted_events;
  return null;
end
$$;
create trigger events_queue_for_sequencer after insert on events
  referencing new table as inserted_events for each statement execute function queue_events_for_sequencer();

insert into event_feed (position, event_id, product_id, tenant_id, type)
  select position, id, product_id, tenant_id, type from events where position is not null;
insert into events_pending (id, type, product_id, tenant_id, target)
  select id, type, product_id, tenant_id, event_target(type, data) from events where position is null;

drop index events_unsequenced_idx;
drop index events_position_key;
drop index events_product_idx;
drop index events_tenant_idx;
drop index events_type_idx;
alter table events drop column position;
