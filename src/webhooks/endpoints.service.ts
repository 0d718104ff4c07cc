import { type Caller, canSeeProduct, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import { expandTypes } from '../events/events.routes.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import type { EndpointRow } from './endpoints.repo.ts';
import * as repo from './endpoints.repo.ts';
import type { EndpointCreateBody, EndpointUpdateBody, EndpointView } from './endpoints.schemas.ts';
import { generateWebhookSecret } from './signing.ts';

/** What endpoint operations need beyond the database. */
export interface EndpointDeps {
  box: SecretBox;
  clock: Clock;
}

const DEFAULT_GRACE_SECONDS = 24 * 60 * 60;

/** The API view of an endpoint (never its secrets). */
export function toEndpointView(row: EndpointRow, now: Date): EndpointView {
  const graceUntil =
    row.previous_secret_encrypted && row.previous_secret_expires_at && row.previous_secret_expires_at > now
      ? row.previous_secret_expires_at
      : null;
  return {
    id: row.id,
    url: row.url,
    productId: row.product_id,
    description: row.description,
    eventTypes: row.event_types,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    ordered: row.ordered,
    maxConcurrency: row.max_concurrency,
    failingSince: row.failing_since?.toISOString() ?? null,
    secretRotation: graceUntil ? { previousSecretValidUntil: graceUntil.toISOString() } : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The endpoint `id` if the caller may see it; a foreign or unknown one is 404. */
export async function getVisibleEndpoint(db: Db, caller: Caller, id: string, forUpdate = false): Promise<EndpointRow> {
  const row = isUuid(id) ? await repo.findEndpoint(db, id, { forUpdate }) : undefined;
  const visible = row && (row.product_id === null ? caller.principal.productId === null : canSeeProduct(caller.principal, row.product_id));
  if (!row || !visible) throw new AppError('webhook_endpoint.not_found', { parameter: 'id' });
  return row;
}

/** One page of the endpoints the caller may see. */
export async function listEndpoints(db: Db, caller: Caller, cursor: string | undefined, limit: number) {
  const rows = await repo.findEndpoints(db, { productId: caller.principal.productId, afterId: decodeCursor(cursor, UUID_KEY), limit });
  return toPage(rows, limit, (row) => row.id);
}

/** Creates an endpoint; the secret is returned here and never again. */
export async function createEndpoint(db: Db, deps: EndpointDeps, caller: Caller, body: EndpointCreateBody) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const productRef = body.product ?? caller.principal.productId;
  const productId = productRef ? (await getVisibleProduct(db, caller.principal, productRef)).id : null;
  const secret = generateWebhookSecret();
  const now = deps.clock.now();
  const row = await repo.insertEndpoint(db, {
    id: newId(),
    product_id: productId,
    url: checkedUrl(body.url),
    description: body.description ?? '',
    event_types: checkedTypes(body.eventTypes),
    enabled: body.enabled ?? true,
    ordered: body.ordered ?? false,
    max_concurrency: body.maxConcurrency ?? 10,
    secret_encrypted: deps.box.seal(secret),
    created_at: now,
    updated_at: now,
  });
  const view = toEndpointView(row, now);
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.create',
    objectType: 'webhook_endpoint',
    objectId: row.id,
    productId,
    after: view,
  });
  return { ...view, secret };
}

/** Changes an endpoint; enabling it again forgets its failure streak and why it was disabled. */
export async function updateEndpointSettings(
  db: Db,
  deps: EndpointDeps,
  caller: Caller,
  id: string,
  body: EndpointUpdateBody,
): Promise<EndpointView> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getVisibleEndpoint(db, caller, id, true);
  const now = deps.clock.now();
  const row = await repo.updateEndpoint(db, id, {
    ...(body.url !== undefined && { url: checkedUrl(body.url) }),
    ...(body.eventTypes !== undefined && { event_types: checkedTypes(body.eventTypes) }),
    ...(body.description !== undefined && { description: body.description }),
    ...(body.ordered !== undefined && { ordered: body.ordered }),
    ...(body.maxConcurrency !== undefined && { max_concurrency: body.maxConcurrency }),
    ...(body.enabled === true && { enabled: true, disabled_reason: null, failing_since: null }),
    ...(body.enabled === false &&
      current.enabled && { enabled: false, disabled_reason: `disabled by ${caller.actor.type} ${caller.actor.id}` }),
    updated_at: now,
  });
  const view = toEndpointView(row, now);
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.update',
    objectType: 'webhook_endpoint',
    objectId: id,
    productId: row.product_id,
    before: toEndpointView(current, now),
    after: view,
  });
  return view;
}

/** Replaces the signing secret; the old one keeps signing (alongside) for the grace period. */
export async function rotateEndpointSecret(db: Db, deps: EndpointDeps, caller: Caller, id: string, graceSeconds = DEFAULT_GRACE_SECONDS) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getVisibleEndpoint(db, caller, id, true);
  const secret = generateWebhookSecret();
  const now = deps.clock.now();
  const row = await repo.updateEndpoint(db, id, {
    secret_encrypted: deps.box.seal(secret),
    previous_secret_encrypted: graceSeconds > 0 ? current.secret_encrypted : null,
    previous_secret_expires_at: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null,
    updated_at: now,
  });
  const view = toEndpointView(row, now);
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.rotate_secret',
    objectType: 'webhook_endpoint',
    objectId: id,
    productId: row.product_id,
    after: view,
  });
  return { ...view, secret };
}

/** Deletes an endpoint with its delivery records. */
export async function deleteEndpoint(db: Db, caller: Caller, id: string): Promise<void> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const current = await getVisibleEndpoint(db, caller, id, true);
  await repo.deleteEndpoint(db, id);
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.delete',
    objectType: 'webhook_endpoint',
    objectId: id,
    productId: current.product_id,
  });
}

/** The secrets a delivery is signed with now: the current one, and the previous during its grace period. */
export function signingSecrets(row: EndpointRow, box: SecretBox, now: Date): string[] {
  const secrets = [box.open(row.secret_encrypted)];
  if (row.previous_secret_encrypted && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
    secrets.push(box.open(row.previous_secret_encrypted));
  }
  return secrets;
}

function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('request.invalid', { message: '"url" is not an absolute URL', parameter: 'url' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new AppError('request.invalid', { message: '"url" must be http or https', parameter: 'url' });
  if (parsed.username || parsed.password)
    throw new AppError('request.invalid', { message: '"url" must not carry a user name or password', parameter: 'url' });
  return parsed.toString();
}

function checkedTypes(types: string[] | undefined): string[] {
  if (!types || types.length === 0) return [];
  try {
    return expandTypes(types.join(',')) ?? [];
  } catch (error) {
    if (error instanceof AppError) throw new AppError('request.invalid', { message: error.message, parameter: 'eventTypes' });
    throw error;
  }
}

/** Sends a `webhook_endpoint.test` event to this endpoint only (a delivery like any other, signed and retried). */
export async function sendTestEvent(db: Db, caller: Caller, id: string): Promise<{ eventId: string }> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const endpoint = await getVisibleEndpoint(db, caller, id);
  const eventId = await recordEvent(db, {
    type: 'webhook_endpoint.test',
    productId: endpoint.product_id,
    data: { endpointId: endpoint.id, message: `A test event for ${endpoint.url}` },
  });
  await insertAuditRecord(db, caller.actor, {
    action: 'webhook_endpoint.test',
    objectType: 'webhook_endpoint',
    objectId: endpoint.id,
    productId: endpoint.product_id,
    after: { eventId },
  });
  return { eventId };
}
