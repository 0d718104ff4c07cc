import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { waitForStatus } from '../people/people.test-support.ts';
import {
  accessToken,
  must,
  type RoomleProduct,
  roomleClient,
  roomleProduct,
  roomleTenant,
  roomleUser,
  signedInToken,
} from './roomle.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: RoomleProduct;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await roomleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function native(name: string) {
  return (await must(landlord.admin.get(`/v1/tenants/${name}`), 200)).body.data as { id: string; name: string; status: string };
}

describe('POST /v2/tenants/ (super admin)', () => {
  it('creates a tenant through the lifecycle with a stable number, its settings and an apiKey, in the Roomle envelope', async () => {
    const name = uniqueName('rt');
    const created = await landlord.admin.post('/v2/tenants/', {
      name,
      label: 'Roomle Shop',
      product: product.name,
      languages: ['de', 'en'],
      defaultLanguage: 'de',
      showLanguageSwitch: true,
      authenticationRequired: true,
      visibility: 10,
      privacyUrl: 'https://shop.example/privacy',
      allowRegistration: true,
      branded: true,
      skin: { primary: '#fff' },
      configuration: '{"a":1}',
      modules: ['basic_usage', 'catalog_management'],
    });
    expect(created.status, created.text).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['meta', 'tenant']);
    expect(created.body.meta.serverTime).toMatch(ISO_MS);
    const tenant = created.body.tenant;
    expect(Number.isInteger(tenant.id)).toBe(true);
    expect(tenant).toMatchObject({
      name,
      label: 'Roomle Shop',
      active: false,
      showLanguageSwitch: true,
      defaultLanguage: 'de',
      languages: ['de', 'en'],
      authenticationRequired: true,
      visibility: 10,
      privacyUrl: 'https://shop.example/privacy',
      webhook: null,
      packages: [],
      configurators: [],
      allowRegistration: true,
      branded: true,
      skin: { primary: '#fff' },
      catalogs: [],
      visibleCatalogs: [],
      shownCatalogs: [],
      catalogConnections: [],
      configuration: '{"a":1}',
      modules: ['basic_usage', 'catalog_management'],
    });
    expect(tenant.apiKey).toMatch(/^[0-9a-f]{32}\.llcn_/);
    expect(tenant.links).toEqual({
      plans: `/v2/tenants/${tenant.id}/plans/`,
      roles: `/v2/tenants/${tenant.id}/roles/`,
      users: `/v2/tenants/${tenant.id}/users/`,
      catalogs: `/v2/tenants/${tenant.id}/catalogs/`,
      visibleCatalogs: `/v2/tenants/${tenant.id}/visibleCatalogs/`,
      shownCatalogs: `/v2/tenants/${tenant.id}/shownCatalogs/`,
      paymentConnections: `/v2/tenants/${tenant.id}/paymentConnections/`,
      billingInformation: `/v2/tenants/${tenant.id}/billingInformation/`,
      usages: `/v2/tenants/${tenant.id}/usages/`,
    });
    // The native record went through creation like any tenant; its number never changes.
    await waitForStatus(landlord, name, 'created_as_active');
    const again = await must(landlord.admin.get(`/v2/tenants/${tenant.id}`), 200);
    expect(again.body.tenant).toMatchObject({ id: tenant.id, name, active: true, apiKey: tenant.apiKey });
  });

  it('refuses a taken name (409), a malformed one and a false active (400 naming the field), writing nothing', async () => {
    const taken = await roomleTenant(landlord, product);
    const again = await landlord.admin.post('/v2/tenants/', { name: taken.name, label: 'x', product: product.name });
    expect(again.status, again.text).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'tenant.name_taken', field: 'name', status: 409 });
    for (const [body, field] of [
      [{ name: 'Not Lower', label: 'x' }, 'name'],
      [{ name: uniqueName('rt'), label: 'x', active: false }, 'active'],
      [{ name: uniqueName('rt'), label: 'x', visibility: -1 }, 'visibility'],
      [{ name: uniqueName('rt'), label: 'x', privacyUrl: 'not a url' }, 'privacyUrl'],
      [{ name: uniqueName('rt'), label: 'x', id: 5 }, 'id'],
    ] as const) {
      const refused = await landlord.admin.post('/v2/tenants/', { product: product.name, ...body });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error.field).toBe(field);
      expect((await landlord.admin.get(`/v1/tenants/${body.name.toLowerCase()}`)).status).toBe(404);
    }
  });

  it('is for operators only: a user with every right gets 403, no credential 401', async () => {
    const tenant = await roomleTenant(landlord, product);
    const record = await native(tenant.name);
    const user = await roomleUser(landlord, tenant.name, ['tenant_management', 'user_management']);
    const token = await accessToken(landlord, product, record, user);
    const refused = await apiClient(landlord.url, token).post('/v2/tenants/', { name: uniqueName('rt'), label: 'x' });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error.code).toBe('auth.forbidden');
    const anonymous = await apiClient(landlord.url).post('/v2/tenants/', { name: uniqueName('rt'), label: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('auth.missing_credential');
  });
});

describe('GET /v2/tenants/{id}/ and /v2/tenants/me', () => {
  it('accepts the access token a user gets by signing in through Landlord (the real OIDC code flow)', async () => {
    const tenant = await roomleTenant(landlord, product);
    const user = await roomleUser(landlord, tenant.name, ['tenant_management']);
    const token = await signedInToken(landlord, product, tenant.name, user.login);
    const read = await must(apiClient(landlord.url, token).get('/v2/tenants/me'), 200);
    expect(read.body.tenant).toMatchObject({ id: tenant.id, name: tenant.name, apiKey: tenant.apiKey });
    const viaHeader = await must(roomleClient(landlord, { apiKey: tenant.apiKey, token }).get(`/v2/tenants/${tenant.id}`), 200);
    expect(viaHeader.body.tenant.id).toBe(tenant.id);
  });

  it('shows webhook and apiKey only to callers with tenant management rights', async () => {
    const tenant = await roomleTenant(landlord, product);
    const record = await native(tenant.name);
    const manager = await roomleUser(landlord, tenant.name, ['tenant_management']);
    const plain = await roomleUser(landlord, tenant.name, []);
    const managerToken = await accessToken(landlord, product, record, manager);
    const plainToken = await accessToken(landlord, product, record, plain);

    const asManager = await must(apiClient(landlord.url, managerToken).get(`/v2/tenants/${tenant.id}/`), 200);
    expect(asManager.body.tenant.apiKey).toBe(tenant.apiKey);
    expect(asManager.body.tenant).toHaveProperty('webhook', null);
    const asPlain = await must(apiClient(landlord.url, plainToken).get(`/v2/tenants/${tenant.id}`), 200);
    expect(asPlain.body.tenant).not.toHaveProperty('apiKey');
    expect(asPlain.body.tenant).not.toHaveProperty('webhook');
    expect(asPlain.body.tenant).toMatchObject({ id: tenant.id, name: tenant.name, active: true });

    // The SDK's way: no id known, `me` with the token header; the apiKey header alone acts as the connection.
    const me = await must(roomleClient(landlord, { token: plainToken }).get('/v2/tenants/me'), 200);
    expect(me.body.tenant.id).toBe(tenant.id);
    const byKey = await must(roomleClient(landlord, { apiKey: tenant.apiKey }).get('/v2/tenants/me'), 200);
    expect(byKey.body.tenant.id).toBe(tenant.id);
    expect(byKey.body.tenant).not.toHaveProperty('apiKey');
    const both = await must(roomleClient(landlord, { apiKey: tenant.apiKey, token: managerToken }).get(`/v2/tenants/${tenant.id}`), 200);
    expect(both.body.tenant.apiKey).toBe(tenant.apiKey);
  });

  it('isolates tenants: a user of A reading B gets 404; so do unknown, malformed and foreign-product ids', async () => {
    const a = await roomleTenant(landlord, product);
    const b = await roomleTenant(landlord, product);
    const user = await roomleUser(landlord, a.name, ['tenant_management', 'user_management', 'tenant_payment', 'tenant_statistics']);
    const token = await accessToken(landlord, product, await native(a.name), user);
    const client = apiClient(landlord.url, token);
    for (const path of [`/v2/tenants/${b.id}/`, '/v2/tenants/999999999999/', '/v2/tenants/abc/', '/v2/tenants/-1/']) {
      const answer = await client.get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error).toMatchObject({ code: 'tenant.not_found', status: 404 });
      expect(answer.body.meta.serverTime).toMatch(ISO_MS);
    }
    // The apiKey of A with a token of B's user is refused outright.
    const otherUser = await roomleUser(landlord, b.name, []);
    const otherToken = await accessToken(landlord, product, await native(b.name), otherUser);
    const mixed = await roomleClient(landlord, { apiKey: a.apiKey, token: otherToken }).get(`/v2/tenants/${b.id}`);
    expect(mixed.status).toBe(401);
    // A token issued for another product is no link to this product's tenant.
    const foreign = await accessToken(landlord, { name: 'another-product' }, await native(a.name), user);
    expect((await apiClient(landlord.url, foreign).get(`/v2/tenants/${a.id}`)).status).toBe(404);
    // An expired token is refused.
    const expired = await accessToken(landlord, product, await native(a.name), user, { expiresInSeconds: -60 });
    expect((await apiClient(landlord.url, expired).get(`/v2/tenants/${a.id}`)).body.error.code).toBe('access_token.invalid');
  });
});

describe('PUT /v2/tenants/{id}/', () => {
  it('updates label and settings for a tenant manager; a user without the right gets 403 and nothing changes', async () => {
    const tenant = await roomleTenant(landlord, product);
    const record = await native(tenant.name);
    const plain = await roomleUser(landlord, tenant.name, ['user_management']);
    const manager = await roomleUser(landlord, tenant.name, ['tenant_management']);
    const refused = await apiClient(landlord.url, await accessToken(landlord, product, record, plain)).put(`/v2/tenants/${tenant.id}/`, {
      label: 'Hijacked',
    });
    expect(refused.status, refused.text).toBe(403);
    const client = apiClient(landlord.url, await accessToken(landlord, product, record, manager));
    const current = (await must(client.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant;
    expect(current.label).toBe('A Roomle tenant');
    // A client sends the object it read back, changed: the read-only fields are ignored.
    const updated = await must(
      client.put(`/v2/tenants/${tenant.id}/`, {
        ...current,
        label: 'Renamed',
        visibility: 5,
        languages: ['fr'],
        modules: ['x'],
        privacyUrl: null,
      }),
      200,
    );
    expect(updated.body.tenant).toMatchObject({ label: 'Renamed', visibility: 5, languages: ['fr'], modules: ['x'], privacyUrl: null });
    expect((await native(tenant.name)).name).toBe(tenant.name);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}`)).body.data.displayName).toBe('Renamed');

    for (const [body, field] of [
      [{ visibility: -1 }, 'visibility'],
      [{ name: 'another-name' }, 'name'],
      [{ id: tenant.id + 1 }, 'id'],
      [{ webhook: 'not a url' }, 'webhook'],
      [{ unknownField: 1 }, 'unknownField'],
      [{ label: '' }, 'label'],
    ] as const) {
      const bad = await client.put(`/v2/tenants/${tenant.id}/`, { ...body });
      expect(bad.status, `${JSON.stringify(body)} ${bad.text}`).toBe(400);
      expect(bad.body.error.field).toBe(field);
    }
    const after = (await must(client.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant;
    expect(after).toEqual({ ...updated.body.tenant });
  });

  it('sets a tenant-scoped webhook (secret answered once) and rotates the apiKey on request', async () => {
    const tenant = await roomleTenant(landlord, product);
    const record = await native(tenant.name);
    const manager = await roomleUser(landlord, tenant.name, ['tenant_management']);
    const client = apiClient(landlord.url, await accessToken(landlord, product, record, manager));
    const set = await must(client.put(`/v2/tenants/${tenant.id}/`, { webhook: 'https://hooks.example/roomle' }), 200);
    expect(set.body.tenant.webhook).toBe('https://hooks.example/roomle');
    expect(set.body.tenant.webhookSecret).toMatch(/.{16,}/);
    const read = await must(client.get(`/v2/tenants/${tenant.id}`), 200);
    expect(read.body.tenant.webhook).toBe('https://hooks.example/roomle');
    expect(read.body.tenant).not.toHaveProperty('webhookSecret');
    const endpoints = (await must(landlord.admin.get('/v1/webhook-endpoints?limit=500'), 200)).body.data as { url: string }[];
    expect(endpoints.filter((endpoint) => endpoint.url === 'https://hooks.example/roomle')).toHaveLength(1);
    // Sending the same URL back changes nothing; "" removes it.
    const same = await must(client.put(`/v2/tenants/${tenant.id}/`, { webhook: 'https://hooks.example/roomle' }), 200);
    expect(same.body.tenant).not.toHaveProperty('webhookSecret');
    expect((await must(client.put(`/v2/tenants/${tenant.id}/`, { webhook: '' }), 200)).body.tenant.webhook).toBeNull();

    const unchanged = await must(client.put(`/v2/tenants/${tenant.id}/`, { apiKey: tenant.apiKey }), 200);
    expect(unchanged.body.tenant.apiKey).toBe(tenant.apiKey);
    const rotated = await must(client.put(`/v2/tenants/${tenant.id}/`, { apiKey: 'rotate' }), 200);
    expect(rotated.body.tenant.apiKey).not.toBe(tenant.apiKey);
    expect((await roomleClient(landlord, { apiKey: tenant.apiKey }).get('/v2/tenants/me')).status).toBe(401);
    expect((await roomleClient(landlord, { apiKey: rotated.body.tenant.apiKey }).get('/v2/tenants/me')).status).toBe(200);
  });

  it('deactivates and activates the tenant through the lifecycle when active changes', async () => {
    const tenant = await roomleTenant(landlord, product);
    const off = await must(landlord.admin.put(`/v2/tenants/${tenant.id}/`, { active: false }), 200);
    expect(off.body.tenant.status).not.toBe('created_as_active');
    await waitForStatus(landlord, tenant.name, 'inactive');
    expect((await must(landlord.admin.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant.active).toBe(false);
    await must(landlord.admin.put(`/v2/tenants/${tenant.id}/`, { active: true }), 200);
    await waitForStatus(landlord, tenant.name, 'active');
    expect((await must(landlord.admin.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant.active).toBe(true);
  });
});

describe('DELETE /v2/tenants/{id}/', () => {
  it('answers 405 in the error shape and leaves the tenant alone', async () => {
    const tenant = await roomleTenant(landlord, product);
    const answer = await landlord.admin.delete(`/v2/tenants/${tenant.id}/`);
    expect(answer.status).toBe(405);
    expect(answer.body.error).toMatchObject({ code: 'roomle.delete_not_supported', status: 405, field: '' });
    expect(answer.body.error.message).toMatch(/not possible/);
    expect((await native(tenant.name)).status).toBe('created_as_active');
  });
});

describe('GET /v2/tenants/', () => {
  it('lists the Roomle tenants by number for operators, only the current tenant for a user', async () => {
    const a = await roomleTenant(landlord, product);
    const b = await roomleTenant(landlord, product);
    const page = await must(landlord.admin.get(`/v2/tenants/?after=${a.id - 1}&limit=2`), 200);
    expect(page.body.tenants.map((tenant: { id: number }) => tenant.id)).toEqual([a.id, b.id]);
    expect(page.body.meta.total).toBe(2);
    expect(page.body.tenants[0].apiKey).toBe(a.apiKey);
    const user = await roomleUser(landlord, b.name, []);
    const mine = await must(
      apiClient(landlord.url, await accessToken(landlord, product, await native(b.name), user)).get('/v2/tenants/'),
      200,
    );
    expect(mine.body.tenants.map((tenant: { id: number }) => tenant.id)).toEqual([b.id]);
    expect(mine.body.tenants[0]).not.toHaveProperty('apiKey');
    expect((await landlord.admin.get('/v2/tenants/?limit=501')).body.error.field).toBe('querystring.limit');
  });
});

describe('PUT /v1/products/{product}/roomle', () => {
  it('maps plans to packages; an unknown plan or package is a 400 naming it, and nothing changes', async () => {
    const before = await must(landlord.admin.get(`/v1/products/${product.name}/roomle`), 200);
    const unknownPlan = await landlord.admin.put(`/v1/products/${product.name}/roomle`, { packages: { 'no-such-plan': 'tenant_basic' } });
    expect(unknownPlan.status).toBe(400);
    expect(unknownPlan.body.metadata.errors[0].parameter).toBe('packages.no-such-plan');
    const [plan] = Object.keys(before.body.data.packages);
    const unknownPackage = await landlord.admin.put(`/v1/products/${product.name}/roomle`, {
      packages: { [plan as string]: 'tenant_gold' },
    });
    expect(unknownPackage.status).toBe(400);
    expect(unknownPackage.body.metadata.errors[0].parameter).toMatch(/^packages/);
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/roomle`), 200)).body.data).toEqual(before.body.data);
    // A product that does not serve the API: its tenants are not Roomle tenants.
    const other = await must(landlord.admin.post('/v1/products', { name: uniqueName('plain'), displayName: 'Plain' }), 201);
    expect((await landlord.admin.get(`/v1/products/${other.body.data.name}/roomle`)).status).toBe(422);
    const refused = await landlord.admin.post('/v2/tenants/', { name: uniqueName('rt'), label: 'x', product: other.body.data.name });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'roomle.not_enabled', field: 'product' });
  });
});
