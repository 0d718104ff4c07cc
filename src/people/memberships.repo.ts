import { type Insertable, sql, type Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MembershipsTable, UsersTable } from '../db/schema.ts';
import { isUuid } from '../platform/ids.ts';

/** A membership with what its view needs: the user's profile (once accepted) and the tenant's name. */
function membershipQuery(db: Db) {
  return db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .leftJoin('users', 'users.id', 'memberships.user_id')
    .selectAll('memberships')
    .select(['tenants.name as tenant_name', 'users.email as user_email', 'users.full_name', 'users.default_language']);
}

/** A membership row with its user's profile and its tenant's name. */
export type MembershipRecord = Awaited<ReturnType<ReturnType<typeof membershipQuery>['executeTakeFirstOrThrow']>>;

/** A tenant's membership by login (ignoring case), optionally locked for the rest of the transaction. */
export async function findMembership(
  db: Db,
  tenantId: string,
  login: string,
  options: { forUpdate?: boolean } = {},
): Promise<MembershipRecord | undefined> {
  let query = membershipQuery(db)
    .where('memberships.tenant_id', '=', tenantId)
    .where(sql`lower(memberships.login)`, '=', login.toLowerCase());
  if (options.forUpdate) query = query.forUpdate('memberships');
  return query.executeTakeFirst();
}

/** A membership by id. */
export async function findMembershipById(db: Db, id: string): Promise<MembershipRecord | undefined> {
  return membershipQuery(db).where('memberships.id', '=', id).executeTakeFirst();
}

/** One page of a tenant's memberships in id order (`limit + 1` rows). */
export async function findMemberships(db: Db, tenantId: string, options: { afterId?: string; limit: number }): Promise<MembershipRecord[]> {
  let query = membershipQuery(db)
    .where('memberships.tenant_id', '=', tenantId)
    .orderBy('memberships.id')
    .limit(options.limit + 1);
  if (options.afterId) query = query.where('memberships.id', '>', options.afterId);
  return query.execute();
}

/** The pending invitation whose token hashes to `hash`, locked. */
export async function lockInvitation(db: Db, hash: Buffer) {
  return db.selectFrom('memberships').selectAll().where('invitation_hash', '=', hash).forUpdate().executeTakeFirst();
}

/** Inserts a membership; a taken login or a second membership of one person raise 23505. */
export async function insertMembership(db: Db, values: Insertable<MembershipsTable>): Promise<void> {
  await db.insertInto('memberships').values(values).execute();
}

/** Changes a membership and bumps its version. */
export async function updateMembership(db: Db, id: string, values: Updateable<MembershipsTable>): Promise<void> {
  await db
    .updateTable('memberships')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

/** Removes a membership (its login links go with it). */
export async function deleteMembership(db: Db, id: string): Promise<void> {
  await db.deleteFrom('memberships').where('id', '=', id).execute();
}

/** Other active members of the tenant holding the `owner` role. */
export async function countOtherOwners(db: Db, tenantId: string, exceptId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('tenant_id', '=', tenantId)
    .where('id', '!=', exceptId)
    .where('status', '=', 'active')
    .where(sql<boolean>`'owner' = any(roles)`)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** A user by id or e-mail (ignoring case). */
export async function findUser(db: Db, ref: string) {
  const query = db.selectFrom('users').selectAll();
  return (
    isUuid(ref) ? query.where('id', '=', ref.toLowerCase()) : query.where(sql`lower(email)`, '=', ref.toLowerCase())
  ).executeTakeFirst();
}

/** Inserts a user; an e-mail taken (ignoring case) raises 23505. */
export async function insertUser(db: Db, values: Insertable<UsersTable>) {
  return db.insertInto('users').values(values).returningAll().executeTakeFirstOrThrow();
}

/** A user's active memberships, only in tenants of `productId` when given. */
export async function findUserMemberships(db: Db, userId: string, productId: string | null) {
  let query = db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .select([
      'memberships.id',
      'memberships.login',
      'memberships.roles',
      'memberships.permissions',
      'memberships.product_id',
      'tenants.id as tenant_id',
      'tenants.name as tenant_name',
    ])
    .where('memberships.user_id', '=', userId)
    .orderBy('memberships.id');
  if (productId) query = query.where('memberships.product_id', '=', productId);
  return query.execute();
}
