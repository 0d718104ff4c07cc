import { sql } from 'kysely';
import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { isValidZone } from '../commerce/calendar.ts';
import { cancelSubscriptionOfDeletedTenant } from '../commerce/tenant-hooks.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { addMembership, removeMembership } from '../people/memberships.service.ts';
import { deleteEventually } from '../tenants/lifecycle.service.ts';
import { onboardTenant } from '../tenants/onboarding.ts';
import type { LifecycleDeps } from '../tenants/transitions.ts';
import { type GroupRecord, groupMemberQuery, groupQuery } from './groups.repo.ts';
import type { GroupCreateBody, GroupUserCreateBody, GroupUserView, GroupView } from './groups.schemas.ts';
import { groupUid, numberOf, userUid } from './maestrano-format.ts';
import { fillPath, oweNotice } from './marketplace.calls.ts';
import { requireMarketplace } from './marketplaces.service.ts';

/** The native view of a group. */
export function toGroupView(row: GroupRecord): GroupView {
  return {
    uid: groupUid(row.number),
    tenant: { id: row.tenant_id, name: row.tenant_name, status: row.status },
    marketplace: row.marketplace_name,
    name: row.display_name,
    email: row.email,
    currency: row.currency,
    timezone: row.timezone,
    country: row.country,
    city: row.city,
    hasCreditCard: row.has_credit_card,
    deletedAt: row.deleted_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * The marketplace `ref` as the caller may act on it: an operator's (of its product), or the
 * marketplace's own credential on itself; any other is 404.
 */
export async function actingMarketplace(db: Db, principal: Principal, ref: string) {
  const marketplace = await requireMarketplace(db, principal, ref);
  if (principal.kind === 'marketplace' && principal.id !== marketplace.id)
    throw new AppError('marketplace.not_found', { message: `No marketplace "${ref}"`, parameter: 'marketplace' });
  if (principal.role !== 'super_admin' && principal.role !== 'product_admin') throw new AppError('auth.forbidden');
  return marketplace;
}

/** A group of the marketplace by uid (`cld-4`), locked when asked; another marketplace's is 404. */
export async function requireGroup(db: Db, marketplaceId: string, uid: string, options: { lock?: boolean } = {}): Promise<GroupRecord> {
  const number = numberOf('cld', uid);
  let query = groupQuery(db)
    .where('g.marketplace_id', '=', marketplaceId)
    .where('g.number', '=', number ?? 0);
  if (options.lock) query = query.forUpdate('g');
  const row = number ? await query.executeTakeFirst() : undefined;
  if (!row) throw new AppError('group.not_found', { message: `No group "${uid}"`, parameter: 'group' });
  return row;
}

/**
 * Creates a group: a tenant of the marketplace's product named after its uid, onboarded like
 * any tenant (its creation call to the product's backend), subscribed to `price` if given.
 */
export async function createGroup(db: Db, deps: LifecycleDeps, caller: Caller, marketplaceRef: string, body: GroupCreateBody) {
  const marketplace = await actingMarketplace(db, caller.principal, marketplaceRef);
  const timezone = body.timezone ?? 'UTC';
  if (!isValidZone(timezone))
    throw new AppError('request.invalid', { message: `"${timezone}" is not an IANA time zone`, parameter: 'timezone' });
  const { number } = await sql<{ number: number }>`select nextval('marketplace_group_numbers') as number`
    .execute(db)
    .then((result) => result.rows[0] as { number: number });
  const tenant = await onboardTenant(db, deps, caller, {
    product: marketplace.product_id,
    name: groupUid(number),
    displayName: body.name,
    ...(body.price ? { plan: body.price } : {}),
  });
  const now = deps.clock.now();
  await db
    .insertInto('marketplace_groups')
    .values({
      tenant_id: tenant.id,
      marketplace_id: marketplace.id,
      number,
      email: body.email ?? null,
      currency: body.currency ?? 'USD',
      timezone,
      country: body.country ?? null,
      city: body.city ?? null,
      has_credit_card: body.hasCreditCard ?? false,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const view = toGroupView(await requireGroup(db, marketplace.id, groupUid(number)));
  await insertAuditRecord(db, caller.actor, {
    action: 'marketplace_group.create',
    objectType: 'marketplace_group',
    objectId: tenant.id,
    productId: marketplace.product_id,
    tenantId: tenant.id,
    after: view,
  });
  return view;
}

/**
 * Deletes a group (the customer cancelled the app): its tenant is deleted through the
 * lifecycle (deactivated first if live), its live subscription cancelled now, and the app
 * is owed `DELETE {group_path}` — exactly one per group (a unique notice), sent by the
 * durable call machinery after the tenant's earlier calls.
 */
export async function deleteGroup(db: Db, deps: LifecycleDeps, caller: Caller, marketplaceRef: string, uid: string): Promise<GroupView> {
  const marketplace = await actingMarketplace(db, caller.principal, marketplaceRef);
  const group = await requireGroup(db, marketplace.id, uid, { lock: true });
  if (group.deleted_at) return toGroupView(group);
  const now = deps.clock.now();
  // Before the deletion's own cancellation, so the event says why: the marketplace cancelled.
  await cancelSubscriptionOfDeletedTenant(db, deps.clock, group.tenant_id, caller.actor, 'marketplace');
  await deleteEventually(db, deps, caller, group.tenant_id, 'marketplace: group cancelled');
  await db.updateTable('marketplace_groups').set({ deleted_at: now, updated_at: now }).where('tenant_id', '=', group.tenant_id).execute();
  const path = fillPath(String((group.webhooks as { account: { group_path: string } }).account.group_path), { id: groupUid(group.number) });
  await oweNotice(db, { tenantId: group.tenant_id, marketplaceId: marketplace.id, kind: 'group_deleted', path, at: now });
  const view = toGroupView(await requireGroup(db, marketplace.id, uid));
  await insertAuditRecord(db, caller.actor, {
    action: 'marketplace_group.delete',
    objectType: 'marketplace_group',
    objectId: group.tenant_id,
    productId: marketplace.product_id,
    tenantId: group.tenant_id,
    before: toGroupView(group),
    after: view,
  });
  return view;
}

function toGroupUserView(row: Awaited<ReturnType<ReturnType<typeof groupMemberQuery>['executeTakeFirstOrThrow']>>): GroupUserView {
  return {
    uid: userUid(row.user_number),
    group: groupUid(row.group_number),
    email: row.email,
    name: row.name,
    surname: row.surname,
    role: row.role ?? 'Member',
    productRoles: row.roles,
  };
}

/** Adds a person to a group with a Maestrano role, mapped to the product role the marketplace says; a new person is created. */
export async function addGroupUser(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  marketplaceRef: string,
  uid: string,
  body: GroupUserCreateBody,
): Promise<GroupUserView> {
  const marketplace = await actingMarketplace(db, caller.principal, marketplaceRef);
  const group = await requireGroup(db, marketplace.id, uid, { lock: true });
  if (group.deleted_at) throw new AppError('group.deleted', { parameter: 'group' });
  const role = marketplace.role_mapping[body.role] ?? 'member';
  const created = await addMembership(
    db,
    deps,
    caller,
    group.tenant_id,
    { email: body.email, fullName: `${body.name} ${body.surname}`, roles: [role] },
    { onUnknownEmail: 'create' },
  );
  const now = deps.clock.now();
  await db
    .insertInto('marketplace_users')
    .values({
      user_id: created.userId as string,
      name: body.name,
      surname: body.surname,
      country: body.country ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((conflict) => conflict.column('user_id').doNothing())
    .execute();
  await db.insertInto('marketplace_members').values({ membership_id: created.id, role: body.role }).execute();
  const row = await groupMemberQuery(db).where('memberships.id', '=', created.id).executeTakeFirstOrThrow();
  return toGroupUserView(row);
}

/** Takes a user out of a group; the app is owed `DELETE {group_user_path}` for it, sent durably. */
export async function removeGroupUser(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  marketplaceRef: string,
  uid: string,
  userRef: string,
): Promise<GroupUserView> {
  const marketplace = await actingMarketplace(db, caller.principal, marketplaceRef);
  const group = await requireGroup(db, marketplace.id, uid, { lock: true });
  const member = await groupMemberQuery(db)
    .where('g.tenant_id', '=', group.tenant_id)
    .where('mu.number', '=', numberOf('usr', userRef) ?? 0)
    .executeTakeFirst();
  if (!member) throw new AppError('user.not_found', { message: `The group has no user "${userRef}"`, parameter: 'user' });
  await removeMembership(db, caller, group.tenant_id, member.login);
  const template = String((group.webhooks as { account: { group_user_path: string } }).account.group_user_path);
  const path = fillPath(template, { group_id: groupUid(group.number), id: userUid(member.user_number) });
  await oweNotice(db, { tenantId: group.tenant_id, marketplaceId: marketplace.id, kind: 'user_removed', path, at: deps.clock.now() });
  return toGroupUserView(member);
}
