import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { TenantsTable, TenantTimelineTable } from '../db/schema.ts';

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

/** Appends one entry to a tenant's process timeline (append-only). */
export async function insertTimelineEntry(db: Db, tenantId: string, at: Date, entry: TransitionEntry | EventEntry): Promise<void> {
  await db
    .insertInto('tenant_timeline')
    .values(timelineRow(tenantId, at, entry))
    .execute();
}

/**
 * Updates a tenant (bumping its version) and appends timeline entries to it, in one
 * statement; returns the tenant's row as it now is.
 */
export async function updateTenantLogged(
  db: Db,
  tenantId: string,
  values: Updateable<TenantsTable>,
  at: Date,
  entries: (TransitionEntry | EventEntry)[],
): Promise<Selectable<TenantsTable>> {
  return db
    .with('logged', (qb) => qb.insertInto('tenant_timeline').values(entries.map((entry) => timelineRow(tenantId, at, entry))))
    .with('updated', (qb) =>
      qb
        .updateTable('tenants')
        .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
        .where('id', '=', tenantId)
        .returningAll(),
    )
    .selectFrom('updated')
    .selectAll()
    .executeTakeFirstOrThrow();
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
