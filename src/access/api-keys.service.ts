import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { isUuid, newId } from '../platform/ids.ts';
import { findProduct } from '../products/products.repo.ts';
import { notifyCredentialChange } from './authenticator.ts';
import { generateCredential, hashSecret, lookupOf } from './credential-format.ts';
import type { Actor } from './principal.ts';

/** An operator API key as listed (never with its secret). */
export interface ApiKeyView {
  id: string;
  name: string;
  role: 'super_admin' | 'product_admin';
  productId: string | null;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Creates an operator key; the returned `key` is the only time the secret is seen. */
export async function createApiKey(
  db: Db,
  actor: Actor,
  input: { name: string; role: 'super_admin' | 'product_admin'; product?: string },
): Promise<{ id: string; key: string; productId: string | null }> {
  let productId: string | null = null;
  if (input.role === 'product_admin') {
    if (!input.product) throw new AppError('request.invalid', { message: 'A product_admin key needs --product', parameter: 'product' });
    const product = await findProduct(db, input.product);
    if (!product) throw new AppError('product.not_found', { message: `No product "${input.product}"`, parameter: 'product' });
    productId = product.id;
  } else if (input.product) {
    throw new AppError('request.invalid', {
      message: 'A super_admin key is not confined to a product; drop --product or use --role product_admin',
      parameter: 'product',
    });
  }
  const key = generateCredential('ll');
  const id = newId();
  await db
    .insertInto('api_keys')
    .values({ id, name: input.name, role: input.role, product_id: productId, lookup: lookupOf(key), secret_hash: hashSecret(key) })
    .execute();
  await insertAuditRecord(db, actor, {
    action: 'api_key.create',
    objectType: 'api_key',
    objectId: id,
    productId,
    after: { name: input.name, role: input.role, productId },
  });
  return { id, key, productId };
}

/** Every operator key, newest first. */
export async function listApiKeys(db: Db): Promise<ApiKeyView[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'product_id', 'lookup', 'created_at', 'last_used_at', 'revoked_at'])
    .orderBy('id', 'desc')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    role: row.role,
    productId: row.product_id,
    prefix: row.lookup,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  }));
}

/** Revokes a key by id or by its public prefix; every node stops accepting it at once. */
export async function revokeApiKey(db: Db, actor: Actor, ref: string, now: Date): Promise<string> {
  const row = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where((eb) => (isUuid(ref) ? eb('id', '=', ref) : eb('lookup', '=', ref)))
    .where('revoked_at', 'is', null)
    .returning(['id', 'product_id'])
    .executeTakeFirst();
  if (!row) throw new AppError('api_key.not_found', { message: `No active API key "${ref}"` });
  await insertAuditRecord(db, actor, { action: 'api_key.revoke', objectType: 'api_key', objectId: row.id, productId: row.product_id });
  await notifyCredentialChange(db);
  return row.id;
}

/** True when at least one usable operator key exists. */
export async function anyActiveApiKey(db: Db): Promise<boolean> {
  const row = await db.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).limit(1).executeTakeFirst();
  return row !== undefined;
}
