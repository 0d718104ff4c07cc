import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import type { Actor } from '../access/principal.ts';
import { type AuditEntry, auditInsert } from '../audit/audit.repo.ts';
import { type Db, executePrepared } from '../db/database.ts';
import type { TenantsTable, TenantTimelineTable } from '../db/schema.ts';
import { eventsInsert, type NewEvent, notifySequencerOnce } from '../events/events.repo.ts';
import { addJobsPerRow } from '../jobs/enqueue.ts';

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
  /** The change's audit record. */
  audit?: { actor: Actor; entry: AuditEntry };
}

/** When the update applies: only while the tenant is still at `version`; otherwise `otherwiseLog` is kept if `when` holds. */
export interface UpdateGuard {
  version: number;
  /** An entry to keep instead when the update did not apply and the tenant no longer is in `status` with `stepId`. */
  otherwiseLog?: { entry: EventEntry; unlessStatus: string; unlessStepId: string };
}

/**
 * Updates a tenant (bumping its version), appends timeline entries to it, and adds
 * the jobs, events and audit record the change sets off — all in one statement, so
 * one round trip does a whole transition, atomic without a transaction of its own.
 * With `guard`, it applies only to the tenant at that version (`row` is undefined
 * otherwise). Returns the tenant's row as it now is.
 */
export async function updateTenantLogged(
  db: Db,
  tenantId: string,
  values: Updateable<TenantsTable>,
  at: Date,
  entries: (TransitionEntry | EventEntry)[],
  along: AlongWithUpdate = {},
  guard?: UpdateGuard,
): Promise<{ row: Selectable<TenantsTable> | undefined; otherwiseLogged: boolean }> {
  const jobs = along.jobs ?? [];
  const events = along.events ?? [];
  const assignments = Object.entries(values).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const updated = sql`update tenants set ${sql.join(assignments)}, version = version + 1, event_seq = event_seq + ${events.length}::int
    where id = ${tenantId}::uuid ${guard ? sql`and version = ${guard.version}::int` : sql``}
    returning *`;
  // Everything else is written once per updated row: none when the guard held it back.
  const none = sql`select 1 where false`;
  const jobsAdded = addJobsPerRow(jobs, sql`updated`);
  // Each event takes the next number after those the tenant had: the last one is the counter's new value.
  const numbered = events.map((event, index) => ({ event, seq: sql`updated.event_seq - ${events.length - 1 - index}` }));
  const recorded = events.length ? eventsInsert(numbered, sql`updated`) : sql`select 1 as recorded where false`;
  const audited = along.audit ? auditInsert(along.audit.actor, along.audit.entry, sql`updated`) : none;
  const otherwise = guard?.otherwiseLog;
  const otherwiseLogged = otherwise
    ? sql`${timelineInsert(at, [otherwise.entry], sql`tenants`)}
        where tenants.id = ${tenantId}::uuid and not exists (select 1 from updated)
          and not (tenants.status = ${otherwise.unlessStatus} and tenants.step_id = ${otherwise.unlessStepId}::uuid)
        returning 1`
    : none;
  const [result] = await executePrepared(
    db,
    sql<Selectable<TenantsTable> & { jobs_added: number; otherwise_logged: number; notified: number }>`
    with updated as (${updated}),
    logged as (${timelineInsert(at, entries, sql`updated`)}),
    jobs as (${jobsAdded}),
    recorded as (${recorded}),
    audited as (${audited}),
    otherwise as (${otherwiseLogged})
    select updated.*, (select count(*) from jobs)::int as jobs_added, (select count(*) from otherwise)::int as otherwise_logged,
      ${notifySequencerOnce(sql`recorded`, tenantId)} as notified
    from (select 1) as one left join updated on true`,
  );
  if (!result?.id) return { row: undefined, otherwiseLogged: Boolean(result?.otherwise_logged) };
  const { jobs_added: _jobs, otherwise_logged: _otherwise, notified: _notified, ...row } = result;
  return { row, otherwiseLogged: false };
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
