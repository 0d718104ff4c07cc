import type { Db } from '../db/database.ts';

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

/** Appends one entry to a tenant's process timeline (append-only). */
export async function insertTimelineEntry(db: Db, tenantId: string, at: Date, entry: TransitionEntry | EventEntry): Promise<void> {
  await db
    .insertInto('tenant_timeline')
    .values({
      tenant_id: tenantId,
      at,
      kind: entry.kind,
      action: entry.action,
      from_status: entry.kind === 'transition' ? entry.from : null,
      to_status: entry.kind === 'transition' ? entry.to : null,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      detail: JSON.stringify(entry.detail),
    })
    .execute();
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
