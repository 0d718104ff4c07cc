import type { Static } from 'typebox';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { createConnection, deleteConnection } from '../connections/connections.service.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { takeAction } from '../tenants/lifecycle.service.ts';
import { onboardTenant } from '../tenants/onboarding.ts';
import { updateTenantDetails } from '../tenants/tenants.service.ts';
import { LIVE_STATUSES, type Status } from '../tenants/workflow.ts';
import { createEndpoint, deleteEndpoint } from '../webhooks/endpoints.service.ts';
import type { RoomleTenant, RoomleTenantCreate, RoomleTenantUpdate } from './roomle.schemas.ts';
import { nativeCaller, type RoomleCaller, type RoomleRight } from './roomle-auth.ts';
import * as repo from './roomle-tenants.repo.ts';

/** What the Roomle tenant services need. */
export interface RoomleDeps {
  clock: Clock;
  box: SecretBox;
}

type TenantView = Static<typeof RoomleTenant>;
const NUMBER = /^\d{1,15}$/;

/**
 * The tenant `idParam` names (its number, or `me`: the caller's current tenant) if the
 * caller has a link to it — an operator of its product, or a user or connection of that
 * very tenant — else 404, as if it did not exist; then 403 without `right`.
 */
export async function resolveTenant(db: Db, who: RoomleCaller, idParam: string, right?: RoomleRight): Promise<repo.RoomleTenantRow> {
  let row: repo.RoomleTenantRow | undefined;
  if (idParam === 'me') row = who.tenantId ? await repo.findRoomleTenantById(db, who.tenantId) : undefined;
  else if (NUMBER.test(idParam)) row = await repo.findRoomleTenantByNumber(db, Number(idParam));
  const linked =
    row?.roomle &&
    (who.via === 'operator'
      ? who.productId === null || who.productId === row.product_id
      : row.id === who.tenantId && (who.via !== 'user' || row.product_name === who.productName));
  if (!row || !linked) {
    throw new AppError('tenant.not_found', {
      message: idParam === 'me' && who.via === 'operator' ? 'An operator key has no current tenant: name the tenant by its id' : undefined,
      parameter: 'id',
    });
  }
  if (right && !who.rights.has(right)) {
    throw new AppError('auth.forbidden', { message: `This needs the ${right} right in the tenant, which the caller does not hold` });
  }
  return row;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The Roomle tenant object; `webhook` and `apiKey` only when `manager` (tenant management rights). */
export function roomleTenantView(row: repo.RoomleTenantRow, manager: boolean, box: SecretBox): TenantView {
  const base = `/v2/tenants/${row.number}`;
  const link = (name: string) => `${base}/${name}/`;
  return {
    id: Number(row.number),
    name: row.name,
    label: row.display_name,
    active: LIVE_STATUSES.includes(row.status as Status),
    showLanguageSwitch: row.show_language_switch ?? false,
    defaultLanguage: row.default_language,
    languages: row.languages ?? [],
    authenticationRequired: row.authentication_required ?? false,
    visibility: row.visibility ?? 0,
    privacyUrl: row.privacy_url,
    ...(manager && {
      webhook: row.webhook_url,
      apiKey: row.api_key_sealed ? box.open(row.api_key_sealed) : null,
    }),
    packages: row.packages.map((item) => ({
      id: item.id,
      package: item.package,
      fromPromocode: item.fromPromocode,
      validFrom: iso(item.validFrom) ?? '',
      validTill: iso(item.validTill),
    })),
    configurators: [],
    links: {
      plans: link('plans'),
      roles: link('roles'),
      users: link('users'),
      catalogs: link('catalogs'),
      visibleCatalogs: link('visibleCatalogs'),
      shownCatalogs: link('shownCatalogs'),
      paymentConnections: link('paymentConnections'),
      billingInformation: link('billingInformation'),
      usages: link('usages'),
    },
    allowRegistration: row.allow_registration ?? false,
    branded: row.branded ?? false,
    skin: row.skin ?? null,
    catalogs: [],
    visibleCatalogs: [],
    shownCatalogs: [],
    catalogConnections: [],
    configuration: row.configuration,
    modules: row.modules ?? [],
    status: row.status,
  };
}

type Settings = Partial<Static<typeof RoomleTenantCreate>>;

/** The settings columns a body sets (only the fields it has). */
function settingsColumns(body: Settings) {
  return {
    ...(body.languages !== undefined && { languages: body.languages }),
    ...(body.defaultLanguage !== undefined && { default_language: body.defaultLanguage }),
    ...(body.showLanguageSwitch !== undefined && { show_language_switch: body.showLanguageSwitch }),
    ...(body.authenticationRequired !== undefined && { authentication_required: body.authenticationRequired }),
    ...(body.visibility !== undefined && { visibility: body.visibility }),
    ...(body.privacyUrl !== undefined && { privacy_url: body.privacyUrl }),
    ...(body.allowRegistration !== undefined && { allow_registration: body.allowRegistration }),
    ...(body.branded !== undefined && { branded: body.branded }),
    ...(body.skin !== undefined && { skin: JSON.stringify(body.skin) }),
    ...(body.configuration !== undefined && { configuration: body.configuration }),
    ...(body.modules !== undefined && { modules: body.modules }),
  };
}

async function saveSettings(db: Db, tenant: { id: string; product_id: string }, columns: Record<string, unknown>, now: Date) {
  await db
    .insertInto('roomle_tenants')
    .values({ tenant_id: tenant.id, product_id: tenant.product_id, updated_at: now, ...columns })
    .onConflict((conflict) =>
      conflict.column('tenant_id').doUpdateSet((eb) => ({ ...columns, updated_at: now, version: eb('roomle_tenants.version', '+', 1) })),
    )
    .execute();
}

/** Issues the tenant's API key: a connection with no permissions of its own, its full key sealed to show tenant managers. */
async function issueApiKey(db: Db, deps: RoomleDeps, who: RoomleCaller, tenant: { id: string; product_id: string }) {
  const created = await createConnection(db, deps, nativeCaller(who, tenant.product_id), tenant.id, {
    name: 'Roomle apiKey',
    type: 'roomle_api_key',
    permissions: [],
  });
  const apiKey = `${created.id}.${created.secret}`;
  return { api_connection_id: created.id, api_key_sealed: deps.box.seal(apiKey) };
}

/** The product a new tenant belongs to: the one named, the operator's own, or the only one serving the API. */
async function productFor(db: Db, who: RoomleCaller, named: string | undefined): Promise<string> {
  const enabled = await repo.findRoomleProductIds(db);
  if (named) {
    const product = await db
      .selectFrom('products')
      .select('id')
      .where((eb) => eb.or([eb('name', '=', named), ...(isUuidLike(named) ? [eb('id', '=', named)] : [])]))
      .executeTakeFirst();
    if (!product || (who.productId !== null && who.productId !== product.id))
      throw new AppError('product.not_found', { parameter: 'product' });
    if (!enabled.includes(product.id)) throw new AppError('roomle.not_enabled', { parameter: 'product' });
    return product.id;
  }
  if (who.productId) {
    if (!enabled.includes(who.productId)) throw new AppError('roomle.not_enabled', { parameter: 'product' });
    return who.productId;
  }
  const [only, ...more] = enabled;
  if (!only)
    throw new AppError('roomle.not_enabled', {
      message: 'No product serves the Roomle API (PUT /v1/products/{product}/roomle)',
      parameter: 'product',
    });
  if (more.length > 0)
    throw new AppError('request.invalid', {
      message: 'Several products serve the Roomle API: name one in "product"',
      parameter: 'product',
    });
  return only;
}

const isUuidLike = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/**
 * `POST /v2/tenants/` (super admin): a tenant through the native lifecycle (creation
 * starts as the product's provisioning says), its Roomle settings and its API key, in
 * the caller's transaction.
 */
export async function createRoomleTenant(db: Db, deps: RoomleDeps, who: RoomleCaller, body: Static<typeof RoomleTenantCreate>) {
  if (who.via !== 'operator') throw new AppError('auth.forbidden', { message: 'Creating a tenant needs an operator (super admin) key' });
  if (body.active === false) {
    throw new AppError('request.invalid', {
      message: 'A new tenant becomes active through its creation; deactivate it afterwards with PUT',
      parameter: 'active',
    });
  }
  const productId = await productFor(db, who, body.product);
  const record = await onboardTenant(db, deps, who.caller, { product: productId, name: body.name, displayName: body.label });
  const tenant = { id: record.id, product_id: productId };
  const now = deps.clock.now();
  const columns = { ...settingsColumns(body), ...(await issueApiKey(db, deps, who, tenant)) };
  await saveSettings(db, tenant, columns, now);
  const row = await reread(db, record.id);
  await insertAuditRecord(db, who.caller.actor, {
    action: 'roomle_tenant.create',
    objectType: 'roomle_tenant',
    objectId: record.id,
    productId,
    tenantId: record.id,
    after: roomleTenantView(row, false, deps.box),
  });
  return row;
}

async function reread(db: Db, id: string): Promise<repo.RoomleTenantRow> {
  const row = await repo.findRoomleTenantById(db, id);
  if (!row) throw new Error('tenant vanished inside its own transaction');
  return row;
}

/**
 * `PUT /v2/tenants/{id}/` (the current tenant, tenant management): label, settings,
 * `active` (the lifecycle's deactivate/activate), `webhook` (a tenant-scoped endpoint
 * whose secret is answered once) and `apiKey` (rotated when the value sent is not the
 * current key). One transaction; nothing is written when any part is refused.
 */
export async function updateRoomleTenant(
  db: Db,
  deps: RoomleDeps,
  who: RoomleCaller,
  idParam: string,
  body: Static<typeof RoomleTenantUpdate>,
) {
  const found = await resolveTenant(db, who, idParam, 'tenant_management');
  await repo.lockTenantRow(db, found.id);
  const current = await reread(db, found.id);
  if (body.name !== undefined && body.name !== current.name)
    throw new AppError('request.invalid', { message: 'A tenant’s name cannot change', parameter: 'name' });
  const sentId = (body as { id?: unknown }).id;
  if (sentId !== undefined && sentId !== Number(current.number) && sentId !== String(current.number))
    throw new AppError('request.invalid', { message: 'The body’s id is not the tenant’s', parameter: 'id' });
  const native = nativeCaller(who, current.product_id);
  const now = deps.clock.now();
  if (body.label !== undefined && body.label !== current.display_name) {
    await updateTenantDetails(db, deps, native, current.id, { displayName: body.label }, undefined);
  }
  const columns: Record<string, unknown> = settingsColumns(body);
  let webhookSecret: string | undefined;
  if (body.webhook !== undefined && (body.webhook || null) !== current.webhook_url) {
    if (current.webhook_endpoint_id) await deleteEndpoint(db, native, current.webhook_endpoint_id);
    columns.webhook_endpoint_id = null;
    if (body.webhook) {
      const endpoint = await createEndpoint(db, deps, native, {
        url: body.webhook,
        product: current.product_id,
        description: `Roomle webhook of tenant ${current.name}`,
      }).catch((error: unknown) => {
        throw renamed(error, 'url', 'webhook');
      });
      await db.updateTable('webhook_endpoints').set({ tenant_id: current.id }).where('id', '=', endpoint.id).execute();
      columns.webhook_endpoint_id = endpoint.id;
      webhookSecret = endpoint.secret;
    }
  }
  const currentKey = current.api_key_sealed ? deps.box.open(current.api_key_sealed) : null;
  if (body.apiKey !== undefined && body.apiKey !== currentKey) {
    if (current.api_connection_id) await deleteConnection(db, native, current.id, current.api_connection_id);
    Object.assign(columns, await issueApiKey(db, deps, who, current));
  }
  if (Object.keys(columns).length > 0) await saveSettings(db, current, columns, now);
  const live = LIVE_STATUSES.includes(current.status as Status);
  if (body.active === false && live) await takeAction(db, deps, native, current.id, 'deactivate', 'Roomle API: active set to false');
  if (body.active === true && !live) await takeAction(db, deps, native, current.id, 'activate', 'Roomle API: active set to true');
  const row = await reread(db, current.id);
  await insertAuditRecord(db, who.caller.actor, {
    action: 'roomle_tenant.update',
    objectType: 'roomle_tenant',
    objectId: current.id,
    productId: current.product_id,
    tenantId: current.id,
    before: roomleTenantView(current, false, deps.box),
    after: roomleTenantView(row, false, deps.box),
  });
  return { row, webhookSecret };
}

/** An AppError about `from` as one about `to` (a native field under its Roomle name). */
function renamed(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof AppError)) return error;
  return new AppError(error.code, {
    message: error.message,
    parameter: error.items[0]?.parameter === from ? to : error.items[0]?.parameter,
  });
}
