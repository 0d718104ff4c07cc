import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { type Db, executePrepared } from '../db/database.ts';
import { effectivePermissions, type PermissionModel } from '../people/access-model.ts';
import { LIVE_STATUSES } from '../tenants/workflow.ts';

/**
 * The tenant a signed-in user acts in, as tokens and assertions carry it (the OIDC
 * `tenant` claim, the SAML tenant attributes, what a product's API reads from a token):
 * the tenant's id, name and display name, the user's login there, their roles and their
 * effective permissions (roles' and direct, within the product's catalogue).
 */
export interface TenantContext {
  id: string;
  name: string;
  displayName: string;
  login: string;
  roles: string[];
  permissions: string[];
}

/** A user's membership in a live tenant of a product: one tenant they may sign in to. */
export interface SignInTenant {
  membershipId: string;
  tenantId: string;
  tenantName: string;
  tenantDisplayName: string;
  login: string;
}

/**
 * Which of a user's tenants of the product a sign-in may pick, when not all: a marketplace's
 * single sign-on can only tell its app about a group of that marketplace, so it offers only those.
 */
export interface SignInScope {
  marketplaceId: string;
}

/**
 * The user's active memberships in the product's live tenants, by tenant display name: where they may
 * sign in (within `scope`, when the sign-in has one).
 */
export async function signInTenantsOf(db: Db, userId: string, productId: string, scope?: SignInScope): Promise<SignInTenant[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .select([
      'memberships.id as membership_id',
      'memberships.login',
      'tenants.id as tenant_id',
      'tenants.name as tenant_name',
      'tenants.display_name as tenant_display_name',
    ])
    .where('memberships.user_id', '=', userId)
    .where('memberships.product_id', '=', productId)
    .where('memberships.status', '=', 'active')
    .where('tenants.status', 'in', [...LIVE_STATUSES])
    .$if(scope !== undefined, (query) =>
      query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('marketplace_groups as g')
            .select('g.tenant_id')
            .whereRef('g.tenant_id', '=', 'tenants.id')
            .where('g.marketplace_id', '=', (scope as SignInScope).marketplaceId)
            .where('g.deleted_at', 'is', null),
        ),
      ),
    )
    .orderBy('tenants.display_name')
    .orderBy('tenants.name')
    .execute();
  return rows.map((row) => ({
    membershipId: row.membership_id,
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    tenantDisplayName: row.tenant_display_name,
    login: row.login,
  }));
}

/** The user and tenant behind a membership, when it is active and its tenant live; undefined otherwise. */
export interface SignedInIdentity {
  /** `emailVerified`: the address received a one-time link from Landlord that set the password. */
  user: { id: string; email: string; emailVerified: boolean; fullName: string; locale: string | null };
  productId: string;
  tenant: TenantContext;
}

/** The columns an identity is made of: the membership, its tenant and user, the product's catalogue and custom roles. */
function identityQuery(db: Db) {
  return db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select((eb) => [
      'memberships.login',
      'memberships.roles',
      'memberships.permissions',
      'memberships.product_id',
      'tenants.id as tenant_id',
      'tenants.name as tenant_name',
      'tenants.display_name as tenant_display_name',
      'tenants.status as tenant_status',
      'users.id as user_id',
      'users.email',
      'users.full_name',
      'users.default_language',
      eb
        .exists(eb.selectFrom('user_passwords').select('user_passwords.user_id').whereRef('user_passwords.user_id', '=', 'users.id'))
        .as('email_verified'),
      sql<
        string[]
      >`array(${eb.selectFrom('product_permissions').select('name').whereRef('product_permissions.product_id', '=', 'memberships.product_id')})`.as(
        'catalogue',
      ),
      jsonArrayFrom(
        eb
          .selectFrom('product_roles')
          .select(['product_roles.name', 'product_roles.permissions'])
          .whereRef('product_roles.product_id', '=', 'memberships.product_id')
          .where('product_roles.name', '=', sql<string>`any(${eb.ref('memberships.roles')})`),
      ).as('custom_roles'),
    ])
    .where('memberships.status', '=', 'active');
}

type IdentityRow = Awaited<ReturnType<ReturnType<typeof identityQuery>['execute']>>[number];

/** The identity a row says, or undefined when its tenant is not live. */
function identityOfRow(row: IdentityRow | undefined): SignedInIdentity | undefined {
  if (!row || !LIVE_STATUSES.includes(row.tenant_status as (typeof LIVE_STATUSES)[number])) return undefined;
  const model: PermissionModel = {
    catalogue: new Set(row.catalogue),
    roles: new Map(row.custom_roles.map((role) => [role.name, role])),
  };
  return {
    user: {
      id: row.user_id,
      email: row.email,
      emailVerified: row.email_verified === true,
      fullName: row.full_name,
      locale: row.default_language,
    },
    productId: row.product_id,
    tenant: {
      id: row.tenant_id,
      name: row.tenant_name,
      displayName: row.tenant_display_name,
      login: row.login,
      roles: [...row.roles].sort(),
      permissions: effectivePermissions(model, row),
    },
  };
}

/**
 * Who a membership signs in as, read now: an ended membership, a user removed from the
 * tenant or a tenant no longer live signs nobody in (tokens already issued say what was).
 * One prepared statement carries the product's catalogue and the custom roles the membership holds too.
 */
export async function identityOfMembership(db: Db, membershipId: string): Promise<SignedInIdentity | undefined> {
  const [row] = await executePrepared(db, identityQuery(db).where('memberships.id', '=', membershipId));
  return identityOfRow(row);
}

/**
 * Who each OIDC grant signs in, as {@link identityOfMembership} reads it, for many grants in one statement (in
 * order; undefined where a grant's membership ended or its tenant is not live): every ID token, access token
 * and userinfo answer reads one, and the requests of one turn share the statement. Planned at each execution, as
 * the OIDC storage's batched reads are: `oidc_grant_tenants` starts empty and churns (see the adapter).
 */
export async function identitiesOfGrants(db: Db, grantIds: readonly string[]): Promise<(SignedInIdentity | undefined)[]> {
  const rows = await identityQuery(db)
    .innerJoin('oidc_grant_tenants', 'oidc_grant_tenants.membership_id', 'memberships.id')
    .select('oidc_grant_tenants.grant_id')
    .where('oidc_grant_tenants.grant_id', '=', sql<string>`any(${[...grantIds]}::text[])`)
    .execute();
  const byGrant = new Map(rows.map((row) => [row.grant_id, row]));
  return grantIds.map((grantId) => identityOfRow(byGrant.get(grantId)));
}
