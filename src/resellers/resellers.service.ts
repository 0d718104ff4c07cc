import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { generateCredential, hashSecret, matchesHash } from '../access/credential-format.ts';
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { guardUnique } from '../catalogue/catalogue.shared.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import type { ResellerCreateBody, ResellerView } from './resellers.schemas.ts';

// Compared against when the reseller code is unknown, so that case costs the same as a wrong password.
const UNKNOWN_HASH = hashSecret(generateCredential('llrs'));

function resellerQuery(db: Db) {
  return db
    .selectFrom('resellers')
    .innerJoin('products', 'products.id', 'resellers.product_id')
    .selectAll('resellers')
    .select('products.name as product_name');
}
type ResellerRecord = Awaited<ReturnType<ReturnType<typeof resellerQuery>['executeTakeFirstOrThrow']>>;

/** The API view of a reseller; the password is never part of it. */
export function toResellerView(row: ResellerRecord): ResellerView {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    product: { id: row.product_id, name: row.product_name },
    prefix: row.code_prefix,
    username: row.username,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** Creates a reseller of a product (super admins, or that product's admins); the password is shown only here. */
export async function createReseller(db: Db, clock: Clock, caller: Caller, body: ResellerCreateBody) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, body.product);
  const password = generateCredential('llrs');
  const id = newId();
  await guardUnique(
    db
      .insertInto('resellers')
      .values({
        id,
        product_id: product.id,
        code: body.code,
        name: body.name,
        code_prefix: body.prefix ?? body.code.replace(/[^a-z0-9]/g, '').slice(0, 20),
        username: `rs_${randomBytes(10).toString('hex')}`,
        password_hash: hashSecret(password),
        created_at: clock.now(),
      })
      .execute(),
    'reseller.code_taken',
    `A reseller with code "${body.code}" exists already`,
    'code',
  );
  const view = toResellerView(await requireReseller(db, caller.principal, id));
  await insertAuditRecord(db, caller.actor, {
    action: 'reseller.create',
    objectType: 'reseller',
    objectId: id,
    productId: product.id,
    after: view,
  });
  return { ...view, password };
}

/** A reseller by id or code, if the caller may see its product; otherwise 404. */
export async function requireReseller(db: Db, principal: Principal, ref: string, forUpdate = false): Promise<ResellerRecord> {
  let query = resellerQuery(db).where(isUuid(ref) ? 'resellers.id' : 'resellers.code', '=', ref.toLowerCase());
  if (principal.productId) query = query.where('resellers.product_id', '=', principal.productId);
  if (forUpdate) query = query.forUpdate('resellers');
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('reseller.not_found', { message: `No reseller "${ref}"`, parameter: 'reseller' });
  return row;
}

/** A reseller, for operators only. */
export async function getReseller(db: Db, principal: Principal, ref: string): Promise<ResellerRecord> {
  requireRole(principal, 'super_admin', 'product_admin');
  return requireReseller(db, principal, ref);
}

/** One page of the resellers the caller may see (operators only), of one product when `filter.productId` says so. */
export async function listResellers(
  db: Db,
  principal: Principal,
  cursor: string | undefined,
  limit: number,
  filter: { productId?: string } = {},
) {
  requireRole(principal, 'super_admin', 'product_admin');
  let query = resellerQuery(db)
    .orderBy('resellers.id')
    .limit(limit + 1);
  if (principal.productId) query = query.where('resellers.product_id', '=', principal.productId);
  if (filter.productId) query = query.where('resellers.product_id', '=', filter.productId);
  const after = decodeCursor(cursor, UUID_KEY);
  if (after) query = query.where('resellers.id', '>', after);
  return toPage(await query.execute(), limit, (row) => row.id);
}

/** Revokes a reseller: its credentials stop working at once; its tenants stay as they are. */
export async function revokeReseller(db: Db, clock: Clock, caller: Caller, ref: string): Promise<ResellerView> {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const current = await requireReseller(db, caller.principal, ref, true);
  if (current.revoked_at) return toResellerView(current);
  await db.updateTable('resellers').set({ revoked_at: clock.now() }).where('id', '=', current.id).execute();
  const view = toResellerView(await requireReseller(db, caller.principal, current.id));
  await insertAuditRecord(db, caller.actor, {
    action: 'reseller.revoke',
    objectType: 'reseller',
    objectId: current.id,
    productId: current.product_id,
    before: toResellerView(current),
    after: view,
  });
  return view;
}

/**
 * The principal of a reseller API request: HTTP Basic `username:password` plus the
 * `X-Reseller` code, all three matching an unrevoked reseller. Anything else is the same
 * 401. The reseller acts with a product admin's rights confined to its product; the
 * reseller routes further confine it to the tenants it created.
 */
export async function authenticateReseller(db: Db, authorization: string | undefined, code: string | undefined): Promise<Principal> {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  const decoded = basic?.[1] ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const [username, password] = colon > 0 ? [decoded.slice(0, colon), decoded.slice(colon + 1)] : ['', ''];
  const row =
    username && code && code.length <= 63
      ? await db
          .selectFrom('resellers')
          .select(['id', 'code', 'product_id', 'username', 'password_hash', 'revoked_at'])
          .where('code', '=', code.trim().toLowerCase())
          .executeTakeFirst()
      : undefined;
  const passwordMatches = matchesHash(password, row?.password_hash ?? UNKNOWN_HASH);
  const usernameMatches = timingSafeEqual(sha256(username), sha256(row?.username ?? ''));
  if (!row || !passwordMatches || !usernameMatches || row.revoked_at)
    throw new AppError('auth.invalid_credential', { message: 'Unauthorized' });
  return { kind: 'reseller', id: row.id, role: 'product_admin', productId: row.product_id, name: row.code };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
