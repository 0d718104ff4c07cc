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
  before?: unknown;
  after?: unknown;
}

/**
 * Writes one audit record; call it in the transaction of the change it records. A
 * change worth telling (see `eventFromAudit`) is also recorded as an event, in the
 * same transaction.
 */
export async function insertAuditRecord(db: Db, actor: Actor, entry: AuditEntry): Promise<void> {
  const event = eventFromAudit(entry);
  if (event) await recordEvent(db, event);
  await db
    .insertInto('audit_log')
    .values({
      actor_type: actor.type,
      actor_id: actor.id,
      request_id: actor.requestId,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId,
      product_id: entry.productId,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
    })
    .execute();
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
