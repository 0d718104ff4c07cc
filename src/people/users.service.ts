import type { Insertable, Selectable } from 'kysely';
import type { Actor, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import type { UsersTable } from '../db/schema.ts';
import { AppError } from '../errors/app-error.ts';
import { type AccessModel, effectivePermissions, loadAccessModel } from './access-model.ts';
import { findUser, findUserMemberships, insertUser } from './memberships.repo.ts';
import type { UserView } from './people.schemas.ts';

type UserRow = Selectable<UsersTable>;

function profileOf(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    fullName: row.full_name,
    defaultLanguage: row.default_language,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Records a new person, met through a tenant of `tenant.product_id` (the event goes to
 * that product's feed). An e-mail taken meanwhile raises 23505 for the caller to map.
 */
export async function recordNewUser(
  db: Db,
  actor: Actor,
  tenant: { product_id: string },
  values: Insertable<UsersTable>,
): Promise<UserRow> {
  const row = await insertUser(db, values);
  await insertAuditRecord(db, actor, {
    action: 'user.create',
    objectType: 'user',
    objectId: row.id,
    productId: tenant.product_id,
    after: profileOf(row),
  });
  return row;
}

/**
 * A person by id or e-mail, with their memberships. A credential confined to a product
 * sees only memberships in that product's tenants, and a person with none there is 404.
 */
export async function getUser(db: Db, principal: Principal, ref: string): Promise<UserView> {
  const user = await findUser(db, ref);
  const memberships = user ? await findUserMemberships(db, user.id, principal.productId) : [];
  if (!user || (principal.productId !== null && memberships.length === 0)) {
    throw new AppError('user.not_found', { message: `No user "${ref}"`, parameter: 'user' });
  }
  const models = new Map<string, AccessModel>();
  for (const productId of new Set(memberships.map((row) => row.product_id))) models.set(productId, await loadAccessModel(db, productId));
  return {
    ...profileOf(user),
    memberships: memberships.map((row) => ({
      id: row.id,
      tenant: { id: row.tenant_id, name: row.tenant_name, productId: row.product_id },
      login: row.login,
      roles: row.roles,
      permissions: row.permissions,
      effectivePermissions: effectivePermissions(models.get(row.product_id) as AccessModel, row),
    })),
  };
}
