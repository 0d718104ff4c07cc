import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { newId } from '../platform/ids.ts';

/** An event as a feature records it. */
export interface NewEvent {
  /** Dotted type from `EVENT_TYPES`, e.g. `tenant.status_changed`. */
  type: string;
  productId: string | null;
  /** Set for events about one tenant: they get the tenant's next sequence number. */
  tenantId?: string | null;
  /** The payload: the object as it now is, plus what changed. */
  data: Record<string, unknown>;
  /** Defaults to the database's clock, as the audit log's does. */
  occurredAt?: Date;
}

/** Channel the sequencer listens on; recording an event notifies it (delivered at commit). */
export const EVENTS_CHANNEL = 'landlord_events';

/**
 * Records an event. Call it in the transaction of the change it tells about: the
 * event exists exactly when the change committed. A tenant's events are numbered
 * 1, 2, 3… (the tenant row's counter, so concurrent writers cannot take one number twice).
 * One statement: the counter, the insert, the NOTIFY for the sequencer, and any
 * `alongside` write (e.g. the audit record) as one more data-modifying CTE.
 */
export async function recordEvent(db: Db, event: NewEvent, alongside?: RawBuilder<unknown>): Promise<string> {
  const id = newId();
  const extra = alongside ? sql`alongside as (${alongside}),` : sql``;
  if (event.tenantId) {
    await sql`
      with ${extra}
      seq as (update tenants set event_seq = event_seq + 1 where id = ${event.tenantId} returning event_seq),
      recorded as (${eventInsert(event, { id, from: sql`seq`, seq: sql`seq.event_seq` })})
      ${notifySequencer(sql`recorded`, event.tenantId)}`.execute(db);
  } else {
    await sql`
      with ${extra}
      recorded as (${eventInsert(event, { id })})
      ${notifySequencer(sql`recorded`, null)}`.execute(db);
  }
  return id;
}

/**
 * The insert of one event (returning a row), for a statement that writes it beside
 * the change it tells about: with `from`, once per row of that CTE (none: no event);
 * `seq` is its number in the tenant's sequence.
 */
export function eventInsert(
  event: NewEvent,
  options: { id?: string; from?: RawBuilder<unknown>; seq?: RawBuilder<unknown> } = {},
): RawBuilder<unknown> {
  return eventsInsert([{ event, ...options }], options.from);
}

/** The insert of several events in one statement (see `eventInsert`). */
export function eventsInsert(
  entries: { event: NewEvent; id?: string; seq?: RawBuilder<unknown> }[],
  from?: RawBuilder<unknown>,
): RawBuilder<{ recorded: number }> {
  const rows = entries.map(({ event, id, seq }) => {
    const occurredAt = sql`coalesce(${event.occurredAt ?? null}::timestamptz, now())`;
    return sql`select ${id ?? newId()}::uuid, ${event.type}, ${event.productId}::uuid, ${event.tenantId ?? null}::uuid,
      ${seq ?? sql`null`}::bigint, ${occurredAt}, ${JSON.stringify(event.data)}::jsonb
      ${from ? sql`from ${from}` : sql``}`;
  });
  return sql`
    insert into events (id, type, product_id, tenant_id, tenant_seq, occurred_at, data)
    ${sql.join(rows, sql` union all `)}
    returning 1 as recorded`;
}

/**
 * The final select of a statement that recorded events (in CTE `recorded`): wakes the
 * sequencer at commit. The payload names the tenant the events are about ('' for none),
 * so a node's caches drop only what that tenant's change can have made stale.
 */
export function notifySequencer(recorded: RawBuilder<unknown>, tenantId: string | null | undefined): RawBuilder<unknown> {
  return sql`select pg_notify(${EVENTS_CHANNEL}, ${tenantId ?? ''}::text) from ${recorded}`;
}

/**
 * A scalar for a statement's final select: one NOTIFY for the sequencer if CTE `recorded`
 * inserted any event (reading it is what makes it run).
 */
export function notifySequencerOnce(recorded: RawBuilder<unknown>, tenantId: string | null): RawBuilder<number> {
  return sql<number>`(select count(*) from (${notifySequencer(sql`(select 1 from ${recorded} limit 1) as any_event`, tenantId)}) as notified)::int`;
}

/** Filters of the event feed. */
export interface EventFilter {
  types?: string[];
  productId?: string | null;
  tenantId?: string;
  afterPosition?: number;
}

/**
 * Sequenced events with their positions: filter and order by the feed's columns (`feed.…`, its indexes), and each
 * event is read by id for the rows asked for only.
 */
export function sequencedEvents(db: Db) {
  return db.selectFrom('event_feed as feed').innerJoin('events', 'events.id', 'feed.event_id').selectAll('events').select('feed.position');
}

/** One event by id, sequenced or not yet (then its position is null). */
export async function findEventById(db: Db, id: string) {
  return db
    .selectFrom('events')
    .leftJoin('event_feed as feed', 'feed.event_id', 'events.id')
    .selectAll('events')
    .select('feed.position')
    .where('events.id', '=', id)
    .executeTakeFirst();
}

/** One page of the feed in position order (`limit + 1` rows). Only sequenced events are visible. */
export async function findEvents(db: Db, filter: EventFilter, limit: number) {
  let query = sequencedEvents(db)
    .orderBy('feed.position')
    .limit(limit + 1);
  if (filter.types?.length) query = query.where('feed.type', 'in', filter.types);
  if (filter.productId) query = query.where('feed.product_id', '=', filter.productId);
  if (filter.tenantId) query = query.where('feed.tenant_id', '=', filter.tenantId);
  if (filter.afterPosition !== undefined) query = query.where('feed.position', '>', filter.afterPosition);
  return query.execute();
}
