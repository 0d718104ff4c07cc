import { type Db, executePrepared } from '../db/database.ts';
import { effectivePermissions, loadAccessModel } from '../people/access-model.ts';
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
  user: { id: string; email: string; fullName: string; locale: string | null };
  productId: string;
  tenant: TenantContext;
}

/**
 * Who a membership signs in as, read now: an ended membership, a user removed from the
 * tenant or a tenant no longer live signs nobody in (tokens already issued say what was).
 * `{ grantId }` reads the membership an OIDC grant was given for, in the same one query.
 */
export async function identityOfMembership(db: Db, ref: string | { grantId: string }): Promise<SignedInIdentity | undefined> {
  let query = db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
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
    ])
    .where('memberships.status', '=', 'active');
  query =
    typeof ref === 'string'
      ? query.where('memberships.id', '=', ref)
      : query
          .innerJoin('oidc_grant_tenants', 'oidc_grant_tenants.membership_id', 'memberships.id')
          .where('oidc_grant_tenants.grant_id', '=', ref.grantId);
  // Every ID token and userinfo answer reads it: a prepared statement (two shapes, by `ref`).
  const [row] = await executePrepared(db, query);
  if (!row || !LIVE_STATUSES.includes(row.tenant_status as (typeof LIVE_STATUSES)[number])) return undefined;
  const model = await loadAccessModel(db, row.product_id);
  return {
    user: { id: row.user_id, email: row.email, fullName: row.full_name, locale: row.default_language },
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
