import { generateCredential, hashSecret } from '../access/credential-format.ts';
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { assertIfMatch } from '../http/etag.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { TenantRecord } from '../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import {
  type AccessModel,
  assertGrantable,
  assertWithin,
  effectivePermissions,
  grantableBy,
  loadAccessModel,
  USER_MANAGEMENT,
} from './access-model.ts';
import * as repo from './memberships.repo.ts';
import type { MembershipCreateBody, MembershipCreatedView, MembershipUpdateBody, MembershipView } from './people.schemas.ts';
import { recordNewUser } from './users.service.ts';

/** How long an invitation can be accepted. */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** What membership operations need beyond the database. */
export interface PeopleDeps {
  clock: Clock;
}

/** The API view of a membership: the person in the tenant, with what their roles and permissions give. */
export function toMembershipView(record: repo.MembershipRecord, model: AccessModel): MembershipView {
  return {
    id: record.id,
    login: record.login,
    status: record.status,
    userId: record.user_id,
    email: record.user_email ?? record.invited_email ?? '',
    fullName: record.full_name ?? record.invited_name,
    defaultLanguage: record.default_language ?? record.invited_language,
    roles: record.roles,
    permissions: record.permissions,
    effectivePermissions: effectivePermissions(model, record),
    tenant: { id: record.tenant_id, name: record.tenant_name },
    invitationExpiresAt: record.invitation_expires_at?.toISOString() ?? null,
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
  };
}

/** The tenant whose users the caller manages, its product's access model, and what the caller may grant. */
export interface ManagedTenant {
  tenant: TenantRecord;
  model: AccessModel;
  grantor: 'all' | ReadonlySet<string>;
}

/**
 * The tenant `ref` if the caller may manage its users: operators, the product's clients
 * and resellers may; a tenant-level credential only in its own tenant (another tenant
 * is 404) and only holding `user_management` (403).
 */
export async function managedTenant(db: Db, caller: Caller, ref: string, options: { writing?: boolean } = {}): Promise<ManagedTenant> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client', 'tenant');
  // Writes lock the tenant: one membership change at a time per tenant keeps rules such as "one owner left" true.
  const tenant = await getVisibleTenant(db, caller.principal, ref, { lock: options.writing });
  if (caller.principal.role === 'tenant' && caller.principal.tenantId !== tenant.id) {
    throw new AppError('tenant.not_found', { parameter: 'tenant' });
  }
  const model = await loadAccessModel(db, tenant.product_id, { forShare: options.writing });
  const grantor = await grantableBy(db, caller, model);
  if (grantor !== 'all' && !grantor.has(USER_MANAGEMENT)) {
    throw new AppError('auth.forbidden', {
      message: `Managing users needs the ${USER_MANAGEMENT} permission, which this connection does not hold`,
    });
  }
  if (options.writing && tenant.status === 'deleted') throw new AppError('tenant.deleted', { parameter: 'tenant' });
  return { tenant, model, grantor };
}

async function requireMembership(db: Db, tenantId: string, login: string, forUpdate = false): Promise<repo.MembershipRecord> {
  const record = await repo.findMembership(db, tenantId, login, { forUpdate });
  if (!record) throw new AppError('membership.not_found', { message: `The tenant has no user "${login}"`, parameter: 'login' });
  return record;
}

async function reread(db: Db, id: string): Promise<repo.MembershipRecord> {
  const record = await repo.findMembershipById(db, id);
  if (!record) throw new Error('membership vanished inside its own transaction');
  return record;
}

/**
 * Adds a person to a tenant by e-mail. A known person joins at once. An unknown one is
 * invited (`onUnknownEmail: 'invite'`: a token to accept with, shown once), or created
 * on the spot from the name given (`'create'`: the reseller API, whose caller vouches
 * for the person and signs them in with a login link right away).
 */
export async function addMembership(
  db: Db,
  deps: PeopleDeps,
  caller: Caller,
  tenantRef: string,
  body: MembershipCreateBody,
  options: { onUnknownEmail: 'invite' | 'create' },
): Promise<MembershipCreatedView> {
  const { tenant, model, grantor } = await managedTenant(db, caller, tenantRef, { writing: true });
  const grant = { roles: body.roles ?? [], permissions: body.permissions ?? [] };
  assertGrantable(model, grantor, grant);
  const now = deps.clock.now();
  const id = newId();
  const base = { id, tenant_id: tenant.id, product_id: tenant.product_id, login: body.login ?? body.email.toLowerCase(), ...grant };
  let invitation: MembershipCreatedView['invitation'] = null;
  try {
    let user = await repo.findUser(db, body.email);
    if (!user && options.onUnknownEmail === 'create') {
      if (!body.fullName)
        throw new AppError('request.invalid', { message: '"fullName" is required for a new user', parameter: 'fullName' });
      user = await recordNewUser(db, caller.actor, tenant, {
        id: newId(),
        email: body.email,
        full_name: body.fullName,
        default_language: body.defaultLanguage ?? null,
        created_at: now,
        updated_at: now,
      });
    }
    if (user) {
      await repo.insertMembership(db, { ...base, user_id: user.id, status: 'active', created_at: now, updated_at: now });
    } else {
      const token = generateCredential('llin');
      const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
      await repo.insertMembership(db, {
        ...base,
        status: 'invited',
        invited_email: body.email,
        invited_name: body.fullName ?? null,
        invited_language: body.defaultLanguage ?? null,
        invitation_hash: hashSecret(token),
        invitation_expires_at: expiresAt,
        created_at: now,
        updated_at: now,
      });
      invitation = { token, expiresAt: expiresAt.toISOString() };
    }
  } catch (error) {
    throw membershipConflict(error, body.login ?? body.email.toLowerCase());
  }
  const view = toMembershipView(await reread(db, id), model);
  await insertAuditRecord(db, caller.actor, {
    action: invitation ? 'membership.invite' : 'membership.create',
    objectType: 'membership',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: view,
  });
  return { ...view, invitation };
}

/** The 409 a unique violation on memberships means; anything else is rethrown as it is. */
export function membershipConflict(error: unknown, login: string): unknown {
  if (isUniqueViolation(error, 'memberships_login_idx'))
    return new AppError('membership.login_taken', { message: `The tenant has a user with login "${login}" already`, parameter: 'login' });
  if (isUniqueViolation(error, 'memberships_user_tenant_idx') || isUniqueViolation(error, 'memberships_invited_idx'))
    return new AppError('membership.exists', {
      message: 'This person belongs to (or is invited to) the tenant already',
      parameter: 'email',
    });
  if (isUniqueViolation(error, 'users_email_idx'))
    return new AppError('membership.exists', {
      message: 'A user with this e-mail was created at the same moment; retry',
      parameter: 'email',
    });
  return error;
}

/** One page of a tenant's users, oldest first. */
export async function listMemberships(db: Db, caller: Caller, tenantRef: string, cursor: string | undefined, limit: number) {
  const { tenant, model } = await managedTenant(db, caller, tenantRef);
  const rows = await repo.findMemberships(db, tenant.id, { afterId: decodeCursor(cursor, UUID_KEY), limit });
  const page = toPage(rows, limit, (row) => row.id);
  return { items: page.items.map((row) => toMembershipView(row, model)), nextCursor: page.nextCursor };
}

/** One user of a tenant, by login. */
export async function getMembership(db: Db, caller: Caller, tenantRef: string, login: string) {
  const { tenant, model } = await managedTenant(db, caller, tenantRef);
  const record = await requireMembership(db, tenant.id, login);
  return { view: toMembershipView(record, model), record };
}

/**
 * Replaces a user's roles and/or direct permissions. A tenant-level credential may only
 * touch someone who holds no more than it does, and only grant what it holds.
 */
export async function changeMembership(
  db: Db,
  deps: PeopleDeps,
  caller: Caller,
  tenantRef: string,
  login: string,
  body: MembershipUpdateBody,
  ifMatch: string | undefined,
) {
  const { tenant, model, grantor } = await managedTenant(db, caller, tenantRef, { writing: true });
  const current = await requireMembership(db, tenant.id, login, true);
  assertIfMatch(ifMatch, current);
  assertWithin(model, grantor, current, 'existing');
  const next = { roles: body.roles ?? current.roles, permissions: body.permissions ?? current.permissions };
  assertGrantable(model, grantor, next);
  if (!next.roles.includes('owner')) await assertNotLastOwner(db, current);
  await repo.updateMembership(db, current.id, { ...next, updated_at: deps.clock.now() });
  const record = await reread(db, current.id);
  const view = toMembershipView(record, model);
  await insertAuditRecord(db, caller.actor, {
    action: 'membership.update',
    objectType: 'membership',
    objectId: current.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    before: toMembershipView(current, model),
    after: view,
  });
  return { view, record };
}

/** Takes a user out of a tenant (the person stays; their login links stop working). */
export async function removeMembership(db: Db, caller: Caller, tenantRef: string, login: string): Promise<string> {
  const { tenant, model, grantor } = await managedTenant(db, caller, tenantRef, { writing: true });
  const current = await requireMembership(db, tenant.id, login, true);
  assertWithin(model, grantor, current, 'existing');
  await assertNotLastOwner(db, current);
  await repo.deleteMembership(db, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'membership.delete',
    objectType: 'membership',
    objectId: current.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    before: toMembershipView(current, model),
  });
  return current.id;
}

// A tenant that has an owner keeps one: the last owner cannot be demoted or removed.
async function assertNotLastOwner(db: Db, current: repo.MembershipRecord): Promise<void> {
  if (current.status !== 'active' || !current.roles.includes('owner')) return;
  if ((await repo.countOtherOwners(db, current.tenant_id, current.id)) > 0) return;
  throw new AppError('membership.last_owner', {
    message: `"${current.login}" is the tenant's only owner; make someone else owner first`,
    parameter: 'roles',
  });
}
