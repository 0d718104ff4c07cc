import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, type ApiResponse, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { waitForStatus } from '../people/people.test-support.ts';
import { accessToken, must, type RoomleProduct, roomleClient, roomleProduct, roomleUser } from './roomle.test-support.ts';

/**
 * The calls of Roomle's tenant document (`002_…txt`), one by one and in its order,
 * each answer checked field by field against `roomle-tenant.md` and read the way
 * Roomle's SDK reads it: the first top-level key that is not `meta` is the payload,
 * `error` or a non-2xx status is a failure, an empty payload is an error, and every
 * object needs an `id`.
 */

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: RoomleProduct;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const TENANT_FIELDS = [
  'id',
  'name',
  'label',
  'active',
  'showLanguageSwitch',
  'defaultLanguage',
  'languages',
  'authenticationRequired',
  'visibility',
  'privacyUrl',
  'webhook',
  'apiKey',
  'packages',
  'configurators',
  'links',
  'allowRegistration',
  'branded',
  'skin',
  'catalogs',
  'visibleCatalogs',
  'shownCatalogs',
  'catalogConnections',
  'configuration',
  'modules',
  'status',
].sort();

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await roomleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** What Roomle's SDK takes from an answer: the payload under the first key that is not `meta`. */
function sdkPayload(answer: ApiResponse): unknown {
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(200);
  expect(answer.status, answer.text).toBeLessThan(300);
  const keys = Object.keys(answer.body);
  const key = keys.find((name) => name !== 'meta');
  expect(key, answer.text).toBeDefined();
  expect(key).not.toBe('error');
  expect(keys.filter((name) => name !== 'meta')).toHaveLength(1);
  expect(answer.body.meta.serverTime).toMatch(ISO_MS);
  const payload = answer.body[key as string];
  expect(payload).not.toBeNull();
  for (const object of Array.isArray(payload) ? payload : [payload]) expect(object).toHaveProperty('id');
  return payload;
}

/** A failure as the SDK sees it: the status and an `error` object with code, message and field. */
function sdkError(answer: ApiResponse, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(Object.keys(answer.body).sort()).toEqual(['error', 'meta']);
  expect(answer.body.error).toMatchObject({ code, status });
  expect(typeof answer.body.error.message).toBe('string');
  expect(typeof answer.body.error.field).toBe('string');
}

describe('Roomle’s tenant document, call by call', () => {
  it('answers every documented call in Roomle’s shapes', async () => {
    // POST / — must be super admin; a unique name.
    const name = uniqueName('doc');
    const created = await landlord.admin.post('/v2/tenants/', { name, label: 'myLabel', product: product.name, visibility: 10 });
    expect(created.status).toBe(201);
    const tenant = sdkPayload(created) as Record<string, unknown> & { id: number; apiKey: string };
    expect(Object.keys(tenant).sort()).toEqual(TENANT_FIELDS);
    expect(typeof tenant.id).toBe('number');
    expect(typeof tenant.visibility).toBe('number');
    await waitForStatus(landlord, name, 'created_as_active');
    const record = (await must(landlord.admin.get(`/v1/tenants/${name}`), 200)).body.data;

    const admin = await roomleUser(landlord, name, ['tenant_management', 'user_management', 'tenant_payment', 'tenant_statistics']);
    const token = await accessToken(landlord, product, record, admin);
    const sdk = roomleClient(landlord, { apiKey: tenant.apiKey, token });
    const bearer: ApiClient = apiClient(landlord.url, token);

    // GET /tenants/me, then GET /:id/ (with and without the trailing slash).
    const me = sdkPayload(await sdk.get('/v2/tenants/me')) as { id: number };
    expect(me.id).toBe(tenant.id);
    for (const path of [`/v2/tenants/${tenant.id}/`, `/v2/tenants/${tenant.id}`]) {
      const read = sdkPayload(await sdk.get(path)) as Record<string, unknown>;
      expect(Object.keys(read).sort()).toEqual(TENANT_FIELDS);
      expect(read).toMatchObject({
        id: tenant.id,
        name,
        label: 'myLabel',
        active: true,
        visibility: 10,
        apiKey: tenant.apiKey,
        webhook: null,
      });
    }

    // PUT /:id/ — current tenant, tenant management.
    const put = sdkPayload(
      await bearer.put(`/v2/tenants/${tenant.id}/`, { label: 'newLabel', showLanguageSwitch: true, defaultLanguage: 'en' }),
    );
    expect(put).toMatchObject({ id: tenant.id, label: 'newLabel', showLanguageSwitch: true, defaultLanguage: 'en' });

    // DELETE /:id/ — not possible.
    sdkError(await bearer.delete(`/v2/tenants/${tenant.id}/`), 405, 'roomle.delete_not_supported');

    // POST /:id/promocode/ — tenant_payment; the generated purchase.
    const code = uniqueName('DOC').replaceAll('-', '_');
    await must(
      landlord.admin.post(`/v1/products/${product.name}/promo-codes`, { code, price: product.prices.tenant_basic, durationDays: 30 }),
      201,
    );
    const purchase = sdkPayload(await bearer.post(`/v2/tenants/${tenant.id}/promocode/`, { promocode: { code } })) as Record<
      string,
      unknown
    >;
    expect(Object.keys(purchase).sort()).toEqual(['fromPromocode', 'id', 'package', 'promocode', 'validFrom', 'validTill']);
    expect(purchase).toMatchObject({ package: 'tenant_basic', fromPromocode: true });
    const withPackage = sdkPayload(await bearer.get(`/v2/tenants/${tenant.id}`)) as { packages: Record<string, unknown>[] };
    expect(withPackage.packages).toHaveLength(1);
    expect(Object.keys(withPackage.packages[0] ?? {}).sort()).toEqual(['fromPromocode', 'id', 'package', 'validFrom', 'validTill']);
    expect(withPackage.packages[0]?.validFrom).toMatch(ISO_MS);
    expect(withPackage.packages[0]?.validTill).toMatch(ISO_MS);

    // Users: GET /:id/users/, POST /:id/users/, PUT /:id/users/:userId/.
    const users = sdkPayload(await bearer.get(`/v2/tenants/${tenant.id}/users/`)) as { id: string; rolesInTenant: string[] }[];
    expect(users.map((user) => user.id)).toEqual([admin.id]);
    const added = sdkPayload(
      await bearer.post(`/v2/tenants/${tenant.id}/users/`, { user: { email: `${uniqueName('x')}@example.com`, roles: ['member'] } }),
    ) as {
      id: string;
    }[];
    expect(added).toHaveLength(1);
    const member = await roomleUser(landlord, name, []);
    const changed = sdkPayload(
      await bearer.put(`/v2/tenants/${tenant.id}/users/${member.id}/`, { user: { email: member.email, roles: ['member'] } }),
    );
    expect(changed).toMatchObject({ id: member.id, rolesInTenant: ['member'] });

    // PaymentConnections: GET, POST; paymentConnectionSessions: no provider configured.
    const saved = sdkPayload(
      await bearer.post(`/v2/tenants/${tenant.id}/paymentConnections/`, {
        paymentConnection: { provider: 'stripe', store: 'eu', customerReference: 'cus_1' },
      }),
    );
    expect(saved).toMatchObject({ provider: 'stripe', store: 'eu', customerReference: 'cus_1' });
    expect(sdkPayload(await bearer.get(`/v2/tenants/${tenant.id}/paymentConnections/`))).toEqual([saved]);
    sdkError(await bearer.post(`/v2/tenants/${tenant.id}/paymentConnectionSessions/`, { store: 'eu' }), 501, 'roomle.no_payment_provider');

    // Tenant BillingInformation: POST, GET, PUT.
    const profile = { name: 'Ada', email: 'ada@example.com', currency: 'EUR' };
    expect(sdkPayload(await bearer.post(`/v2/tenants/${tenant.id}/billingInformation/`, { billingInformation: profile }))).toMatchObject(
      profile,
    );
    expect(sdkPayload(await bearer.get(`/v2/tenants/${tenant.id}/billingInformation/`))).toMatchObject({ id: tenant.id, ...profile });
    expect(
      sdkPayload(await bearer.put(`/v2/tenants/${tenant.id}/billingInformation/`, { billingInformation: { ...profile, name: 'Bo' } })),
    ).toMatchObject({
      name: 'Bo',
    });

    // Usages: GET /:id/usages/ (none reported yet: an empty list, which is an answer, not a failure).
    const usages = await bearer.get(`/v2/tenants/${tenant.id}/usages/`);
    expect(usages.status).toBe(200);
    expect(usages.body).toMatchObject({ usages: [], meta: { total: 0 } });

    // AssetProcessings and the other lists of Roomle product data: not managed here.
    for (const path of ['assetProcessings', 'catalogs', 'visibleCatalogs', 'shownCatalogs', 'enabledTags']) {
      sdkError(await bearer.get(`/v2/tenants/${tenant.id}/${path}/`), 501, 'roomle.not_managed');
    }

    // GET /:id/roles/ — the user ↔ tenant connections.
    const roles = sdkPayload(await bearer.get(`/v2/tenants/${tenant.id}/roles/`)) as { user: string }[];
    expect(roles.map((row) => row.user).sort()).toEqual(expect.arrayContaining([admin.id, member.id]));
  });
});
