import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { hashSecret, matchesHash } from '../access/credential-format.ts';
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { guardUnique } from '../catalogue/catalogue.shared.ts';
import type { Db } from '../db/database.ts';
import type { MarketplacesTable } from '../db/schema.ts';
import { AppError } from '../errors/app-error.ts';
import { loadAccessModel, rolePermissions } from '../people/access-model.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid, newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import {
  MAESTRANO_ROLES,
  type MaestranoRole,
  type MarketplaceCreateBody,
  type MarketplaceCreatedView,
  type MarketplaceView,
} from './marketplaces.schemas.ts';

/** A marketplace row. */
export type MarketplaceRow = Selectable<MarketplacesTable>;
/** A marketplace row with its product's and environment's names. */
export type MarketplaceRecord = MarketplaceRow & { product_name: string; environment_name: string };

/** The product role each Maestrano role grants unless the marketplace says otherwise. */
export const DEFAULT_ROLE_MAPPING: Record<MaestranoRole, string> = {
  Member: 'member',
  'Power User': 'member',
  Admin: 'admin',
  'Super Admin': 'owner',
};

// Compared against when the id is unknown, so that case costs what a wrong key costs.
const UNKNOWN_HASH = hashSecret(randomBytes(20).toString('hex'));

function marketplaceQuery(db: Db) {
  return db
    .selectFrom('marketplaces')
    .innerJoin('products', 'products.id', 'marketplaces.product_id')
    .innerJoin('marketplace_environments as env', 'env.id', 'marketplaces.environment_id')
    .selectAll('marketplaces')
    .select(['products.name as product_name', 'env.name as environment_name']);
}

/** The operators' view of a marketplace. */
export function toMarketplaceView(row: MarketplaceRecord): MarketplaceView {
  return {
    id: row.id,
    marketplace: row.name,
    nid: row.nid,
    environment: row.environment_name,
    product: { id: row.product_id, name: row.product_name },
    apiId: row.api_id,
    app: row.app,
    sso: row.sso,
    webhooks: row.webhooks,
    connec: row.connec,
    roles: row.role_mapping,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Creates a marketplace of a product (super admins and the product's admins). Its API
 * credentials are new; the environment's configuration credentials are made with its
 * first marketplace and shown only then. Role mappings must name roles the product has.
 */
export async function createMarketplace(
  db: Db,
  deps: { clock: Clock; box: SecretBox },
  caller: Caller,
  productRef: string,
  body: MarketplaceCreateBody,
): Promise<MarketplaceCreatedView> {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const roles = { ...DEFAULT_ROLE_MAPPING, ...body.roles };
  const model = await loadAccessModel(db, product.id);
  for (const role of MAESTRANO_ROLES) {
    if (!rolePermissions(model, roles[role]))
      throw new AppError('role.unknown', { message: `The product has no role "${roles[role]}"`, parameter: `roles.${role}` });
  }
  const now = deps.clock.now();
  // One environment row per (product, name): the first marketplace makes it, later ones find it.
  let environment = await db
    .selectFrom('marketplace_environments')
    .select(['id'])
    .where('product_id', '=', product.id)
    .where('name', '=', body.environment)
    .forUpdate()
    .executeTakeFirst();
  let environmentCredentials: MarketplaceCreatedView['environmentCredentials'] = null;
  if (!environment) {
    environmentCredentials = { key: `env-${randomBytes(12).toString('hex')}`, secret: randomBytes(24).toString('hex') };
    environment = await guardUnique(
      db
        .insertInto('marketplace_environments')
        .values({
          id: newId(),
          product_id: product.id,
          name: body.environment,
          key: environmentCredentials.key,
          secret_hash: hashSecret(environmentCredentials.secret),
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow(),
      'marketplace.name_taken',
      'The environment was created at the same moment; retry',
      'environment',
    );
  }
  const apiKey = randomBytes(32).toString('hex');
  const id = newId();
  await guardUnique(
    db
      .insertInto('marketplaces')
      .values({
        id,
        product_id: product.id,
        environment_id: environment.id,
        name: body.marketplace,
        nid: body.nid,
        app: JSON.stringify(body.app),
        sso: JSON.stringify({ idm: body.sso.idm ?? body.app.host, init_path: body.sso.init_path, consume_path: body.sso.consume_path }),
        webhooks: JSON.stringify({
          account: body.webhooks.account,
          connec: { external_ids: true, initialization_path: null, notification_path: null, subscriptions: null, ...body.webhooks.connec },
        }),
        connec: JSON.stringify(body.connec ?? {}),
        role_mapping: JSON.stringify(roles),
        api_id: `app-${randomBytes(8).toString('hex')}`,
        api_key_hash: hashSecret(apiKey),
        api_key_sealed: deps.box.seal(apiKey),
        created_at: now,
      })
      .execute(),
    'marketplace.name_taken',
    `The product has a marketplace "${body.marketplace}" already`,
    'marketplace',
  );
  const view = toMarketplaceView(await requireMarketplace(db, caller.principal, id));
  await insertAuditRecord(db, caller.actor, {
    action: 'marketplace.create',
    objectType: 'marketplace',
    objectId: id,
    productId: product.id,
    after: view,
  });
  return { ...view, apiKey, environmentCredentials };
}

/**
 * A marketplace by id, or by name (unique per product; a name two products use needs the
 * id, or a credential confined to one of them). Invisible ones are 404.
 */
export async function requireMarketplace(db: Db, principal: Principal, ref: string): Promise<MarketplaceRecord> {
  let query = marketplaceQuery(db).where(isUuid(ref) ? 'marketplaces.id' : 'marketplaces.name', '=', ref);
  if (principal.productId) query = query.where('marketplaces.product_id', '=', principal.productId);
  const rows = await query.limit(2).execute();
  if (rows.length > 1)
    throw new AppError('request.invalid', {
      message: `Several products have a marketplace "${ref}": name it by id`,
      parameter: 'marketplace',
    });
  const row = rows[0];
  if (!row) throw new AppError('marketplace.not_found', { message: `No marketplace "${ref}"`, parameter: 'marketplace' });
  return row;
}

/** The marketplaces of a product the caller may see (operators only). */
export async function listMarketplaces(db: Db, principal: Principal, productRef: string): Promise<MarketplaceView[]> {
  requireRole(principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, principal, productRef);
  const rows = await marketplaceQuery(db).where('marketplaces.product_id', '=', product.id).orderBy('marketplaces.id').execute();
  return rows.map(toMarketplaceView);
}

/** `id:secret` of an HTTP Basic header, or empty strings. */
export function basicCredentials(authorization: string | undefined): { id: string; secret: string } {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  const decoded = basic?.[1] ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  return colon > 0 ? { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : { id: '', secret: '' };
}

/** The marketplace whose `api.id:api.key` the header carries, or undefined (every failure looks the same). */
export async function authenticateMarketplace(db: Db, authorization: string | undefined): Promise<MarketplaceRow | undefined> {
  const { id, secret } = basicCredentials(authorization);
  const row =
    id && id.length <= 100 ? await db.selectFrom('marketplaces').selectAll().where('api_id', '=', id).executeTakeFirst() : undefined;
  const matches = matchesHash(secret, row?.api_key_hash ?? UNKNOWN_HASH);
  return row && matches ? row : undefined;
}

/** The principal a marketplace acts as: a product admin confined to its product (its routes confine it further to its groups). */
export function marketplacePrincipal(row: MarketplaceRow): Principal {
  return { kind: 'marketplace', id: row.id, role: 'product_admin', productId: row.product_id, name: row.name };
}

/** The environment whose `key:secret` the header carries, or undefined. */
export async function authenticateEnvironment(db: Db, authorization: string | undefined) {
  const { id, secret } = basicCredentials(authorization);
  const row =
    id && id.length <= 100
      ? await db.selectFrom('marketplace_environments').selectAll().where('key', '=', id).executeTakeFirst()
      : undefined;
  const matches = matchesHash(secret, row?.secret_hash ?? UNKNOWN_HASH);
  return row && matches ? row : undefined;
}
