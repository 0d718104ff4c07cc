import { sql } from 'kysely';
import type { Caller } from '../access/principal.ts';
import { requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { decodeCursor, SERIAL_KEY, toPage } from '../http/pagination.ts';
import { isUuid } from '../platform/ids.ts';
import { DELIVERIES_CHANNEL, type DeliveryRow } from './deliveries.repo.ts';
import { getVisibleEndpoint } from './endpoints.service.ts';

/** The API view of a delivery. */
export function toDeliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    tenantId: row.tenant_id,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
  };
}

/** One page of an endpoint's deliveries, newest first. */
export async function listDeliveries(
  db: Db,
  caller: Caller,
  endpointId: string,
  query: { status?: string; cursor?: string; limit: number },
) {
  await getVisibleEndpoint(db, caller, endpointId);
  const before = decodeCursor(query.cursor, SERIAL_KEY);
  let select = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('seq', 'desc')
    .limit(query.limit + 1);
  if (query.status) select = select.where('status', '=', query.status as 'pending');
  if (before !== undefined) select = select.where('seq', '<', Number(before));
  return toPage(await select.execute(), query.limit, (row) => row.seq);
}

/** A delivery with every attempt made (headers, status, body up to 16 KiB, duration, error). */
export async function getDelivery(db: Db, caller: Caller, id: string) {
  const row = isUuid(id) ? await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw new AppError('delivery.not_found', { parameter: 'id' });
  try {
    await getVisibleEndpoint(db, caller, row.endpoint_id);
  } catch {
    throw new AppError('delivery.not_found', { parameter: 'id' });
  }
  const attempts = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', id).orderBy('id').execute();
  return {
    ...toDeliveryView(row),
    attemptLog: attempts.map((attempt) => ({
      at: attempt.at.toISOString(),
      requestHeaders: attempt.request_headers,
      responseStatus: attempt.response_status,
      responseBody: attempt.response_body,
      durationMs: attempt.duration_ms,
      error: attempt.error,
    })),
  };
}

/** Sends one delivery again, now, whatever became of it. */
export async function resendDelivery(db: Db, caller: Caller, id: string, now: Date) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getDelivery(db, caller, id);
  const row = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, lease_until: null, leased_by: null })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(db);
  await insertAuditRecord(db, caller.actor, {
    action: 'delivery.resend',
    objectType: 'delivery',
    objectId: id,
    productId: null,
    before: { status: current.status },
  });
  return toDeliveryView(row);
}

/** Sends again every delivery of an endpoint that gave up (status `failed`) since `since`. */
export async function replayFailed(db: Db, caller: Caller, endpointId: string, since: Date, now: Date): Promise<number> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const endpoint = await getVisibleEndpoint(db, caller, endpointId);
  const replayed = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, lease_until: null, leased_by: null })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'failed')
    .where('created_at', '>=', since)
    .returning('id')
    .execute();
  if (replayed.length) await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(db);
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.replay',
    objectType: 'webhook_endpoint',
    objectId: endpointId,
    productId: endpoint.product_id,
    after: { since: since.toISOString(), replayed: replayed.length },
  });
  return replayed.length;
}
