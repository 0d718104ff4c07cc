import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import type { TenantsTable, TenantTimelineTable } from '../db/schema.ts';
import { eventsInsert, type NewEvent, notifySequencer } from '../events/events.repo.ts';

/** A transition as the timeline keeps it. */
export interface TransitionEntry {
  kind: 'transition';
  action: string;
  from: string;
  to: string;
  actor: { type: string; id: string };
  detail: Record<string, unknown>;
}

/** A call to the backend or a report from it, as the timeline keeps it. */
export interface EventEntry {
  kind: 'call' | 'report';
  action: string;
  actor: { type: string; id: string };
  detail: Record<string, unknown>;
}

/** The row of one timeline entry. */
export function timelineRow(tenantId: string, at: Date, entry: TransitionEntry | EventEntry): Insertable<TenantTimelineTable> {
  return {
    tenant_id: tenantId,
    at,
    kind: entry.kind,
    action: entry.action,
    from_status: entry.kind === 'transition' ? entry.from : null,
    to_status: entry.kind === 'transition' ? entry.to : null,
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    detail: JSON.stringify(entry.detail),
  };
}

/** The insert of timeline entries for a statement that writes the tenant too: once per row of `from` (a CTE with `id`). */
export function timelineInsert(at: Date, entries: (TransitionEntry | EventEntry)[], from: RawBuilder<unknown>): RawBuilder<unknown> {
  const rows = entries.map((entry) => {
    const row = timelineRow('', at, entry);
    return sql`select id, ${row.at}::timestamptz, ${row.kind}, ${row.action}, ${row.from_status ?? null}::text, ${row.to_status ?? null}::text,
      ${row.actor_type}, ${row.actor_id}, ${row.detail}::jsonb from ${from}`;
  });
  return sql`insert into tenant_timeline (tenant_id, at, kind, action, from_status, to_status, actor_type, actor_id, detail)
    ${sql.join(rows, sql` union all `)}`;
}

/** Appends one entry to a tenant's process timeline (append-only). */
export async function insertTimelineEntry(db: Db, tenantId: string, at: Date, entry: TransitionEntry | EventEntry): Promise<void> {
  await executePrepared(db, db.insertInto('tenant_timeline').values(timelineRow(tenantId, at, entry)));
}

/** What rides along with a tenant's update in `updateTenantLogged`. */
export interface AlongWithUpdate {
  /** Jobs the change sets off (`addJob`). */
  jobs?: RawBuilder<unknown>[];
  /** Events about the tenant, numbered on in its sequence. */
  events?: NewEvent[];
  /** Other inserts the change makes (its audit record). */
  writes?: RawBuilder<unknown>[];
}

/**
 * Updates a tenant (bumping its version), appends timeline entries to it, and adds
 * the jobs and records the events the change sets off — all in one statement, so one
 * round trip does a whole transition. Returns the tenant's row as it now is.
 */
export async function updateTenantLogged(
  db: Db,
  tenantId: string,
  values: Updateable<TenantsTable>,
  at: Date,
  entries: (TransitionEntry | EventEntry)[],
  along: AlongWithUpdate = {},
): Promise<Selectable<TenantsTable>> {
  const jobs = along.jobs ?? [];
  const events = along.events ?? [];
  let query = db
    .with('logged', (qb) => qb.insertInto('tenant_timeline').values(entries.map((entry) => timelineRow(tenantId, at, entry))))
    .with('updated', (qb) =>
      qb
        .updateTable('tenants')
        .set((eb) => ({ ...values, version: eb('version', '+', 1), event_seq: eb('event_seq', '+', events.length) }))
        .where('id', '=', tenantId)
        .returningAll(),
    )
    // Raw CTEs are not parenthesised by Kysely.
    .with('jobs', () => (jobs.length ? sql`(${sql.join(jobs, sql` union all `)})` : sql`(select null as job where false)`))
    // Each event takes the next number after those the tenant had: the last one is the counter's new value.
    .with('recorded', () =>
      events.length
        ? sql<{ recorded: number }>`(${eventsInsert(
            events.map((event, index) => ({ event, seq: sql`updated.event_seq - ${events.length - 1 - index}` })),
            sql`updated`,
          )})`
        : sql<{ recorded: number }>`(select 1 as recorded where false)`,
    );
  for (const [index, write] of (along.writes ?? []).entries()) {
    query = query.with(`write_${index}` as 'recorded', () => sql<{ recorded: number }>`(${write})`);
  }
  const [row] = await executePrepared(
    db,
    query
      .selectFrom('updated')
      .selectAll('updated')
      // Read, so that the jobs are added (a CTE without data-modifying statements runs only when read).
      .select(sql<number>`(select count(*) from jobs)`.as('jobs_added'))
      .select(
        sql<number>`(select count(*) from (${notifySequencer(sql`(select 1 from recorded limit 1) as any_event`)}) as notified)`.as(
          'notified',
        ),
      ),
  );
  if (!row) throw new Error(`tenant ${tenantId} vanished inside its own transaction`);
  const { jobs_added: _jobs, notified: _notified, ...updated } = row;
  return updated;
}

/** One page of a tenant's timeline, oldest first (`limit + 1` rows). */
export async function findTimeline(db: Db, tenantId: string, options: { kind?: string; afterId?: number; limit: number }) {
  let query = db
    .selectFrom('tenant_timeline')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('id')
    .limit(options.limit + 1);
  if (options.kind) query = query.where('kind', '=', options.kind as 'call');
  if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
  return query.execute();
}
