import { type RawBuilder, sql } from 'kysely';
import type { Actor } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { eventFromAudit } from '../events/event-types.ts';
import { recordEvent } from '../events/events.repo.ts';

/** What changed: the action, the object, and the object before and after (as the API shows it). */
export interface AuditEntry {
  action: string;
  objectType: string;
  objectId: string;
  productId: string | null;
  /** The tenant the object belongs to (a membership, a connection): its events join that tenant's sequence. */
  tenantId?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Writes one audit record; call it in the transaction of the change it records. A
 * change worth telling (see `eventFromAudit`) is also recorded as an event, in the
 * same transaction and the same statement.
 */
export async function insertAuditRecord(db: Db, actor: Actor, entry: AuditEntry): Promise<void> {
  const insert = auditInsert(actor, entry);
  const event = eventFromAudit(entry);
  if (event) await recordEvent(db, event, insert);
  else await insert.execute(db);
}

/** The insert of one audit record; with `from`, once per row of that CTE (for a statement that writes the change too). */
export function auditInsert(actor: Actor, entry: AuditEntry, from?: RawBuilder<unknown>): RawBuilder<unknown> {
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  return sql`
    insert into audit_log (actor_type, actor_id, request_id, action, object_type, object_id, product_id, before, after)
    select ${actor.type}, ${actor.id}, ${actor.requestId}, ${entry.action}, ${entry.objectType}, ${entry.objectId},
      ${entry.productId}::uuid, ${json(entry.before)}::jsonb, ${json(entry.after)}::jsonb
    ${from ? sql`from ${from}` : sql``}`;
}

/** Filters of the audit log list. */
export interface AuditFilter {
  productId?: string | null;
  objectType?: string;
  objectId?: string;
  action?: string;
  actorId?: string;
  since?: Date;
  until?: Date;
  /** Only records older than this id (the list runs newest first). */
  beforeId?: number;
}

/** One page of the audit log, newest first, `limit + 1` rows to tell whether more follow. */
export async function findAuditRecords(db: Db, filter: AuditFilter, limit: number) {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filter.productId) query = query.where('product_id', '=', filter.productId);
  if (filter.objectType) query = query.where('object_type', '=', filter.objectType);
  if (filter.objectId) query = query.where('object_id', '=', filter.objectId);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.since) query = query.where('at', '>=', filter.since);
  if (filter.until) query = query.where('at', '<', filter.until);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  return query.execute();
}
