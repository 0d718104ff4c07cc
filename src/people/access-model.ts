import type { Selectable } from 'kysely';
import type { Caller } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import type { ProductRolesTable } from '../db/schema.ts';
import { AppError, assertNoProblems, type ErrorItem, errorItem } from '../errors/app-error.ts';

/** The permission a tenant-level credential needs to manage its tenant's users (Roomle's name for it). */
export const USER_MANAGEMENT = 'user_management';

/** A role template row of a product. */
export type RoleRow = Selectable<ProductRolesTable>;

/** The roles every product has without defining them. `all`: every permission the product defines, now and later. */
export const BUILT_IN_ROLES = {
  owner: { displayName: 'Owner', description: 'The account holder: every permission the product defines, now and later', all: true },
  admin: { displayName: 'Administrator', description: 'Every permission the product defines, now and later', all: true },
  member: { displayName: 'Member', description: 'No permission of its own: grant permissions directly or with other roles', all: false },
} as const;
/** The name of a built-in role. */
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

/** True when `name` is one of the built-in roles. */
export function isBuiltInRole(name: string): name is BuiltInRole {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

/** What permissions are judged by: the product's catalogue and what each custom role gives. */
export interface PermissionModel {
  catalogue: ReadonlySet<string>;
  roles: ReadonlyMap<string, { permissions: string[] }>;
}

/** What a product defines: its permission catalogue and its custom roles, read once per request. */
export interface AccessModel extends PermissionModel {
  productId: string;
  roles: ReadonlyMap<string, RoleRow>;
}

/**
 * Reads a product's permission catalogue and role templates. Writes that grant pass
 * `forShare`: a permission cannot leave the catalogue until they commit.
 */
export async function loadAccessModel(db: Db, productId: string, options: { forShare?: boolean } = {}): Promise<AccessModel> {
  let permissionsQuery = db.selectFrom('product_permissions').select('name').where('product_id', '=', productId);
  if (options.forShare) permissionsQuery = permissionsQuery.forShare();
  // One after the other: a transaction runs one statement at a time.
  const permissions = await permissionsQuery.execute();
  const roles = await db.selectFrom('product_roles').selectAll().where('product_id', '=', productId).execute();
  return {
    productId,
    catalogue: new Set(permissions.map((row) => row.name)),
    roles: new Map(roles.map((row) => [row.name, row])),
  };
}

/** The permissions a role gives, by name; undefined for a role the product does not define. */
export function rolePermissions(model: PermissionModel, role: string): string[] | undefined {
  if (isBuiltInRole(role)) return BUILT_IN_ROLES[role].all ? [...model.catalogue].sort() : [];
  return model.roles.get(role)?.permissions;
}

/** Everything a membership (or any holder of roles and direct permissions) may do, sorted. */
export function effectivePermissions(
  model: PermissionModel,
  grant: { roles: readonly string[]; permissions: readonly string[] },
): string[] {
  const all = new Set(grant.permissions);
  for (const role of grant.roles) for (const permission of rolePermissions(model, role) ?? []) all.add(permission);
  // A permission dropped from the catalogue grants nothing, even if a row still names it.
  return [...all].filter((permission) => model.catalogue.has(permission)).sort();
}

/** Refuses (400) permissions the product does not define, naming each one's position in `field`. */
export function assertKnownPermissions(model: AccessModel, permissions: readonly string[], field = 'permissions'): void {
  const problems: ErrorItem[] = [];
  permissions.forEach((permission, index) => {
    if (!model.catalogue.has(permission))
      problems.push(errorItem('permission.unknown', `The product defines no permission "${permission}"`, `${field}.${index}`));
  });
  assertNoProblems(problems);
}

/** Refuses (400) roles the product does not define. */
export function assertKnownRoles(model: AccessModel, roles: readonly string[], field = 'roles'): void {
  const problems: ErrorItem[] = [];
  roles.forEach((role, index) => {
    if (rolePermissions(model, role) === undefined)
      problems.push(errorItem('role.unknown', `The product defines no role "${role}"`, `${field}.${index}`));
  });
  assertNoProblems(problems);
}

/**
 * What the caller may grant: `all` for operators, the product's clients and resellers
 * (they act with the product's full permission set); for a tenant-level credential,
 * exactly the permissions it holds, read in the caller's transaction.
 */
export async function grantableBy(db: Db, caller: Caller, model: AccessModel): Promise<'all' | ReadonlySet<string>> {
  const { principal } = caller;
  if (principal.role !== 'tenant') return 'all';
  const row = await db
    .selectFrom('connections')
    .select(['permissions', 'active'])
    .where('id', '=', principal.id)
    .where('tenant_id', '=', principal.tenantId ?? '')
    .executeTakeFirst();
  if (!row?.active) throw new AppError('auth.invalid_credential');
  return new Set(effectivePermissions(model, { roles: [], permissions: row.permissions }));
}

/**
 * The rule "nobody can grant a permission they do not hold": checks that the grant
 * names only roles and permissions the product defines (400), and that everything it
 * gives is within what the grantor holds (403 `permission.not_held`). `field` names
 * the part of the request being checked.
 */
export function assertGrantable(
  model: AccessModel,
  grantor: 'all' | ReadonlySet<string>,
  grant: { roles: readonly string[]; permissions: readonly string[] },
): void {
  assertKnownRoles(model, grant.roles);
  assertKnownPermissions(model, grant.permissions);
  assertWithin(model, grantor, grant, 'grant');
}

/**
 * Refuses (403) when what `grant` gives goes beyond `grantor`. `what` says whether it is
 * a new grant or an existing one being changed (a tenant-level actor may not change or
 * remove someone who holds more than it does).
 */
export function assertWithin(
  model: AccessModel,
  grantor: 'all' | ReadonlySet<string>,
  grant: { roles: readonly string[]; permissions: readonly string[] },
  what: 'grant' | 'existing',
): void {
  if (grantor === 'all') return;
  const missing = effectivePermissions(model, grant).filter((permission) => !grantor.has(permission));
  if (missing.length === 0) return;
  throw new AppError('permission.not_held', {
    message:
      what === 'grant'
        ? `This credential cannot grant ${missing.join(', ')}: nobody can grant a permission they do not hold`
        : `This user holds ${missing.join(', ')}, which this credential does not: it may not change or remove them`,
    parameter: what === 'grant' ? 'permissions' : 'login',
  });
}
