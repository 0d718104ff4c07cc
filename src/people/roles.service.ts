import { sql } from 'kysely';
import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { guardUnique, requireCatalogueAdmin, requireCatalogueWriter } from '../catalogue/catalogue.shared.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { assertKnownPermissions, BUILT_IN_ROLES, isBuiltInRole, loadAccessModel, type RoleRow, rolePermissions } from './access-model.ts';
import type { PermissionCreateBody, RoleCreateBody, RoleView } from './people.schemas.ts';

/** The API view of a permission. */
export function toPermissionView(row: { name: string; description: string; created_at: Date }) {
  return { name: row.name, description: row.description, createdAt: row.created_at.toISOString() };
}

/** The permissions a product defines, by name. */
export async function listPermissions(db: Db, principal: Principal, productRef: string) {
  const product = await getVisibleProduct(db, principal, productRef);
  return db.selectFrom('product_permissions').selectAll().where('product_id', '=', product.id).orderBy('name').execute();
}

/** Adds a permission to a product's catalogue (operators and the product's clients). */
export async function createPermission(db: Db, clock: Clock, caller: Caller, productRef: string, body: PermissionCreateBody) {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const row = await guardUnique(
    db
      .insertInto('product_permissions')
      .values({ product_id: product.id, name: body.name, description: body.description ?? '', created_at: clock.now() })
      .returningAll()
      .executeTakeFirstOrThrow(),
    'permission.name_taken',
    `The product defines "${body.name}" already`,
  );
  await insertAuditRecord(db, caller.actor, {
    action: 'permission.create',
    objectType: 'permission',
    objectId: `${product.id}:${row.name}`,
    productId: product.id,
    after: toPermissionView(row),
  });
  return row;
}

/**
 * Removes a permission from a product's catalogue (operators only); refused (409)
 * while a role, a user or a connection still holds it, so no grant changes silently.
 */
export async function deletePermission(db: Db, caller: Caller, productRef: string, name: string): Promise<void> {
  requireCatalogueAdmin(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const row = await db
    .selectFrom('product_permissions')
    .selectAll()
    .where('product_id', '=', product.id)
    .where('name', '=', name)
    // Locked before holders are counted: a grant naming it waits for this, or this for the grant.
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('permission.not_found', { message: `The product defines no permission "${name}"`, parameter: 'permission' });
  const { rows } = await sql<{ holders: string }>`
    select 'roles' as holders from product_roles where product_id = ${product.id} and ${name} = any(permissions)
    union all select 'users' from memberships where product_id = ${product.id} and ${name} = any(permissions)
    union all select 'connections' from connections where product_id = ${product.id} and ${name} = any(permissions)
    limit 1`.execute(db);
  if (rows[0]) {
    throw new AppError('permission.in_use', {
      message: `Some ${rows[0].holders} still hold "${name}"; take it away from them first`,
      parameter: 'permission',
    });
  }
  await db.deleteFrom('product_permissions').where('product_id', '=', product.id).where('name', '=', name).execute();
  await insertAuditRecord(db, caller.actor, {
    action: 'permission.delete',
    objectType: 'permission',
    objectId: `${product.id}:${name}`,
    productId: product.id,
    before: toPermissionView(row),
  });
}

function toCustomRoleView(row: RoleRow): RoleView {
  return {
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    builtIn: false,
    allPermissions: false,
    permissions: [...row.permissions].sort(),
    createdAt: row.created_at.toISOString(),
  };
}

/** A product's roles: the built-ins first (with what they give today), then its own by name. */
export async function listRoles(db: Db, principal: Principal, productRef: string): Promise<RoleView[]> {
  const product = await getVisibleProduct(db, principal, productRef);
  const model = await loadAccessModel(db, product.id);
  const builtIns = Object.entries(BUILT_IN_ROLES).map(([name, role]) => ({
    name,
    displayName: role.displayName,
    description: role.description,
    builtIn: true,
    allPermissions: role.all,
    permissions: rolePermissions(model, name) ?? [],
    createdAt: null,
  }));
  const custom = [...model.roles.values()].sort((a, b) => a.name.localeCompare(b.name)).map(toCustomRoleView);
  return [...builtIns, ...custom];
}

/** Defines a role template for every tenant of a product (operators and the product's clients). */
export async function createRole(db: Db, clock: Clock, caller: Caller, productRef: string, body: RoleCreateBody): Promise<RoleView> {
  requireCatalogueWriter(caller.principal);
  const product = await getVisibleProduct(db, caller.principal, productRef);
  if (isBuiltInRole(body.name)) throw new AppError('role.name_taken', { message: `"${body.name}" is a built-in role`, parameter: 'name' });
  // Shared locks: a permission cannot leave the catalogue while a role naming it is written.
  assertKnownPermissions(await loadAccessModel(db, product.id, { forShare: true }), body.permissions);
  const row = await guardUnique(
    db
      .insertInto('product_roles')
      .values({
        id: newId(),
        product_id: product.id,
        name: body.name,
        display_name: body.displayName,
        description: body.description ?? '',
        permissions: body.permissions,
        created_at: clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
    'role.name_taken',
    `The product has a role "${body.name}" already`,
  );
  const view = toCustomRoleView(row);
  await insertAuditRecord(db, caller.actor, {
    action: 'role.create',
    objectType: 'role',
    objectId: row.id,
    productId: product.id,
    after: view,
  });
  return view;
}
