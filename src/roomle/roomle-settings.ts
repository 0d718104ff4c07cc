import { type Static, Type } from 'typebox';
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError, assertNoProblems, type ErrorItem, errorItem } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { PACKAGES } from './roomle.schemas.ts';
import { ROOMLE_RIGHTS } from './roomle-auth.ts';

const tags = ['Roomle compatibility'];

/** Body and view of a product's Roomle settings: which plan is which package. */
export const RoomleSettings = Type.Object(
  {
    packages: Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.Union(PACKAGES.map((name) => Type.Literal(name))), {
      description: 'Plan name → Roomle package',
    }),
  },
  { additionalProperties: false },
);
type SettingsBody = Static<typeof RoomleSettings>;

async function readSettings(db: Db, productId: string): Promise<SettingsBody | undefined> {
  const enabled = await db.selectFrom('roomle_products').select('product_id').where('product_id', '=', productId).executeTakeFirst();
  if (!enabled) return undefined;
  const rows = await db
    .selectFrom('roomle_packages')
    .innerJoin('plans', 'plans.id', 'roomle_packages.plan_id')
    .select(['plans.name', 'roomle_packages.package'])
    .where('roomle_packages.product_id', '=', productId)
    .orderBy('plans.name')
    .execute();
  return { packages: Object.fromEntries(rows.map((row) => [row.name, row.package])) } as SettingsBody;
}

/** A product's Roomle settings; 404 when the product does not serve the Roomle API. */
export async function getRoomleSettings(db: Db, principal: Principal, productRef: string): Promise<SettingsBody> {
  const product = await getVisibleProduct(db, principal, productRef);
  const settings = await readSettings(db, product.id);
  if (!settings) throw new AppError('roomle.not_enabled', { parameter: 'product' });
  return settings;
}

/**
 * Turns the Roomle API on for a product (or replaces its package mapping): defines
 * Roomle's four rights as the product's permissions when missing, and maps plans to
 * packages. Operators only.
 */
export async function putRoomleSettings(
  db: Db,
  clock: Clock,
  caller: Caller,
  productRef: string,
  body: SettingsBody,
): Promise<SettingsBody> {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef, true);
  const names = Object.keys(body.packages);
  const plans = names.length
    ? await db.selectFrom('plans').select(['id', 'name']).where('product_id', '=', product.id).where('name', 'in', names).execute()
    : [];
  const problems: ErrorItem[] = names
    .filter((name) => !plans.some((plan) => plan.name === name))
    .map((name) => errorItem('request.invalid', `The product has no plan "${name}"`, `packages.${name}`));
  assertNoProblems(problems);
  const before = await readSettings(db, product.id);
  const now = clock.now();
  await db
    .insertInto('roomle_products')
    .values({ product_id: product.id, created_at: now, updated_at: now })
    .onConflict((conflict) => conflict.column('product_id').doUpdateSet({ updated_at: now }))
    .execute();
  await db
    .insertInto('product_permissions')
    .values(ROOMLE_RIGHTS.map((name) => ({ product_id: product.id, name, description: `Roomle right: ${name}` })))
    .onConflict((conflict) => conflict.columns(['product_id', 'name']).doNothing())
    .execute();
  await db.deleteFrom('roomle_packages').where('product_id', '=', product.id).execute();
  if (plans.length) {
    await db
      .insertInto('roomle_packages')
      .values(plans.map((plan) => ({ product_id: product.id, plan_id: plan.id, package: String(body.packages[plan.name]) })))
      .execute();
  }
  const after = (await readSettings(db, product.id)) as SettingsBody;
  await insertAuditRecord(db, caller.actor, {
    action: 'roomle_settings.update',
    objectType: 'roomle_settings',
    objectId: product.id,
    productId: product.id,
    before,
    after,
  });
  return after;
}

/** `GET|PUT /v1/products/{product}/roomle`: whether and how a product serves the Roomle API. */
export function registerRoomleSettingsRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  const params = RefParam('product', 'Product id or name');
  app.get(
    '/v1/products/:product/roomle',
    {
      schema: {
        tags,
        summary: 'A product’s Roomle API settings',
        params,
        response: { 200: envelope(RoomleSettings), ...errors(401, 403, 404, 422, 429) },
      },
    },
    async (request) => ok(await getRoomleSettings(db, principalOf(request), request.params.product)),
  );
  app.put(
    '/v1/products/:product/roomle',
    {
      schema: {
        tags,
        summary: 'Serve the Roomle API for a product',
        description:
          'Operators. Turns `/v2/tenants` on for the product’s tenants, defines the rights tenant_management, user_management, tenant_payment and tenant_statistics as its permissions (when missing), and maps plans to Roomle packages (replacing the mapping).',
        params,
        body: RoomleSettings,
        response: { 200: envelope(RoomleSettings), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(
        await db.transaction().execute((tx) => putRoomleSettings(tx, deps.clock, callerOf(request), request.params.product, request.body)),
      ),
  );
}
