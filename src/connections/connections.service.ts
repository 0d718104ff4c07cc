import { generateCredential, hashSecret } from '../access/credential-format.ts';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage } from '../http/pagination.ts';
import { assertKnownPermissions, loadAccessModel } from '../people/access-model.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { TenantRecord } from '../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import * as repo from './connections.repo.ts';
import type { ConnectionCreateBody, ConnectionUpdateBody, ConnectionView, ConnectionWithSecretView } from './connections.schemas.ts';
import { notifyConnectionChange } from './verifier.ts';

/** What connection operations need beyond the database. */
export interface ConnectionDeps {
  clock: Clock;
}

/** The cursor shape of connection lists (ids are 32 hex characters, time-ordered). */
export const CONNECTION_KEY = /^[0-9a-f]{32}$/;
// Configuration is the product's to define; bounded like tenant metadata.
const CONFIGURATION_MAX_BYTES = 64 * 1024;

/** The API view of a connection; the secret is never part of it. */
export function toConnectionView(row: repo.ConnectionRecord): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    active: row.active,
    configuration: row.configuration,
    permissions: row.permissions,
    tenant: { id: row.tenant_id, name: row.tenant_name },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A new connection id: a UUIDv7 without its dashes, so ids are 32 hex characters and sort by creation. */
export function newConnectionId(): string {
  return newId().replaceAll('-', '');
}

/** The tenant whose connections the caller manages: operators, the product's clients and resellers. */
async function connectionTenant(db: Db, caller: Caller, ref: string): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  return getVisibleTenant(db, caller.principal, ref);
}

async function requireConnection(db: Db, tenantId: string, id: string, forUpdate = false): Promise<repo.ConnectionRecord> {
  const row = await repo.findConnection(db, tenantId, id, { forUpdate });
  if (!row) throw new AppError('connection.not_found', { message: `The tenant has no connection "${id}"`, parameter: 'connection' });
  return row;
}

async function checkedGrant(db: Db, productId: string, body: { configuration?: unknown; permissions?: string[] }): Promise<void> {
  if (body.permissions) assertKnownPermissions(await loadAccessModel(db, productId, { forShare: true }), body.permissions);
  const size = body.configuration === undefined ? 0 : Buffer.byteLength(JSON.stringify(body.configuration));
  if (size > CONFIGURATION_MAX_BYTES) {
    throw new AppError('request.invalid', {
      message: `configuration is ${size} bytes; at most ${CONFIGURATION_MAX_BYTES} are kept`,
      parameter: 'configuration',
    });
  }
}

/** Creates a connection of a tenant; the returned `secret` is the only time it is seen. */
export async function createConnection(
  db: Db,
  deps: ConnectionDeps,
  caller: Caller,
  tenantRef: string,
  body: ConnectionCreateBody,
): Promise<ConnectionWithSecretView> {
  const tenant = await connectionTenant(db, caller, tenantRef);
  if (tenant.status === 'deleted') throw new AppError('tenant.deleted', { parameter: 'tenant' });
  await checkedGrant(db, tenant.product_id, body);
  const secret = generateCredential('llcn');
  const id = newConnectionId();
  const now = deps.clock.now();
  await repo.insertConnection(db, {
    id,
    tenant_id: tenant.id,
    product_id: tenant.product_id,
    name: body.name,
    type: body.type ?? 'api',
    active: body.active ?? true,
    configuration: JSON.stringify(body.configuration ?? {}),
    permissions: [...(body.permissions ?? [])].sort(),
    secret_hash: hashSecret(secret),
    created_at: now,
    updated_at: now,
  });
  const view = toConnectionView(await requireConnection(db, tenant.id, id));
  await insertAuditRecord(db, caller.actor, {
    action: 'connection.create',
    objectType: 'connection',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: view,
  });
  await notifyConnectionChange(db);
  return { ...view, secret };
}

/** One page of a tenant's connections, oldest first. */
export async function listConnections(db: Db, caller: Caller, tenantRef: string, cursor: string | undefined, limit: number) {
  const tenant = await connectionTenant(db, caller, tenantRef);
  const rows = await repo.findConnections(db, tenant.id, { afterId: decodeCursor(cursor, CONNECTION_KEY), limit });
  return toPage(rows, limit, (row) => row.id);
}

/** One connection of a tenant. */
export async function getConnection(db: Db, caller: Caller, tenantRef: string, id: string): Promise<repo.ConnectionRecord> {
  const tenant = await connectionTenant(db, caller, tenantRef);
  return requireConnection(db, tenant.id, id);
}

/** Changes a connection (name, active, configuration, permissions); every node sees it at once. */
export async function updateConnection(
  db: Db,
  deps: ConnectionDeps,
  caller: Caller,
  tenantRef: string,
  id: string,
  body: ConnectionUpdateBody,
  ifMatch: string | undefined,
): Promise<repo.ConnectionRecord> {
  const tenant = await connectionTenant(db, caller, tenantRef);
  const current = await requireConnection(db, tenant.id, id, true);
  assertIfMatch(ifMatch, current);
  await checkedGrant(db, tenant.product_id, body);
  await repo.updateConnection(db, current.id, {
    ...(body.name !== undefined && { name: body.name }),
    ...(body.active !== undefined && { active: body.active }),
    ...(body.configuration !== undefined && { configuration: JSON.stringify(body.configuration) }),
    ...(body.permissions !== undefined && { permissions: [...body.permissions].sort() }),
    updated_at: deps.clock.now(),
  });
  const row = await requireConnection(db, tenant.id, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'connection.update',
    objectType: 'connection',
    objectId: current.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    before: toConnectionView(current),
    after: toConnectionView(row),
  });
  await notifyConnectionChange(db);
  return row;
}

/** Deletes a connection; its secret stops working on every node once the transaction commits. */
export async function deleteConnection(db: Db, caller: Caller, tenantRef: string, id: string): Promise<string> {
  const tenant = await connectionTenant(db, caller, tenantRef);
  const current = await requireConnection(db, tenant.id, id, true);
  await repo.deleteConnection(db, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'connection.delete',
    objectType: 'connection',
    objectId: current.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    before: toConnectionView(current),
  });
  await notifyConnectionChange(db);
  return current.id;
}
