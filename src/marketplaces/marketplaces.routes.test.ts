import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { basicClient, type CreatedMarketplace, createMarketplace, documentMarketplace } from './marketplaces.test-support.ts';

// The operators' side: marketplaces of a product and the groups they sell to, with their access rules.

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let marketplace: CreatedMarketplace;
let rival: CreatedMarketplace;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
  marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
  rival = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'some-telco'));
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

describe('marketplaces', () => {
  it('shows the API key and environment secret only when created; reads never carry a secret', async () => {
    expect(marketplace.apiKey).toMatch(/^[0-9a-f]{64}$/);
    const read = await landlord.admin.get(`/v1/marketplaces/${marketplace.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ marketplace: 'maestrano', apiId: marketplace.apiId, environment: 'demo-app' });
    expect(read.text).not.toContain(marketplace.apiKey);
    const list = await landlord.admin.get(`/v1/products/${product.name}/marketplaces`);
    expect(list.body.data.map((one: { marketplace: string }) => one.marketplace)).toEqual(['maestrano', 'some-telco']);
    expect(list.text).not.toContain(marketplace.apiKey);
    const stored = await landlord.node.services.db.selectFrom('marketplace_environments').select('secret_hash').execute();
    expect(stored.every((row) => row.secret_hash.length === 32)).toBe(true);
  });

  it('refuses a duplicate name (409), a role the product lacks (400 naming it) and a malformed path (400)', async () => {
    const duplicate = await landlord.admin.post(`/v1/products/${product.name}/marketplaces`, documentMarketplace(backend.url));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.metadata.errors[0].parameter).toBe('marketplace');
    const role = await landlord.admin.post(`/v1/products/${product.name}/marketplaces`, {
      ...documentMarketplace(backend.url, 'telco-b'),
      roles: { Admin: 'wizard' },
    });
    expect(role.status).toBe(400);
    expect(role.body.metadata.errors[0].parameter).toBe('roles.Admin');
    const path = await landlord.admin.post(`/v1/products/${product.name}/marketplaces`, {
      ...documentMarketplace(backend.url, 'telco-c'),
      sso: { init_path: 'no-slash', consume_path: '/c' },
    });
    expect(path.status).toBe(400);
    const count = await landlord.node.services.db.selectFrom('marketplaces').select('name').execute();
    expect(count.map((row) => row.name).sort()).toEqual(['maestrano', 'some-telco']);
  });

  it('another product’s admin gets 404 for the product’s marketplaces and cannot create groups in them', async () => {
    const foreign = landlord.as(await productAdminKey(landlord, other.name));
    expect((await foreign.get(`/v1/marketplaces/${marketplace.id}`)).status).toBe(404);
    expect((await foreign.get(`/v1/products/${product.name}/marketplaces`)).status).toBe(404);
    expect((await foreign.post(`/v1/marketplaces/${marketplace.id}/groups`, { name: 'x' })).status).toBe(404);
    // The product's backend client is not an operator.
    expect((await product.client.post(`/v1/products/${product.name}/marketplaces`, documentMarketplace(backend.url, 'x'))).status).toBe(
      403,
    );
  });
});

describe('groups', () => {
  it('the marketplace’s own credential creates groups in it, not in another marketplace', async () => {
    const own = basicClient(landlord.url, marketplace.apiId, marketplace.apiKey);
    const created = await own.post(`/v1/marketplaces/${marketplace.id}/groups`, { name: 'Self-served', timezone: 'Europe/Paris' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data).toMatchObject({
      uid: expect.stringMatching(/^cld-\d+$/),
      name: 'Self-served',
      currency: 'USD',
      timezone: 'Europe/Paris',
    });
    expect(created.body.data.tenant.name).toBe(created.body.data.uid);
    expect((await own.post(`/v1/marketplaces/${rival.id}/groups`, { name: 'Intruder' })).status).toBe(404);
    expect((await own.delete(`/v1/marketplaces/${rival.id}/groups/${created.body.data.uid}`)).status).toBe(404);
    expect(
      (await basicClient(landlord.url, marketplace.apiId, 'wrong').post(`/v1/marketplaces/${marketplace.id}/groups`, { name: 'x' })).status,
    ).toBe(401);
  });

  it('refuses bad profiles naming the field, and another marketplace’s group is 404', async () => {
    const zone = await landlord.admin.post(`/v1/marketplaces/${marketplace.id}/groups`, { name: 'x', timezone: 'Mars/Olympus' });
    expect(zone.status).toBe(400);
    expect(zone.body.metadata.errors[0].parameter).toBe('timezone');
    const currency = await landlord.admin.post(`/v1/marketplaces/${marketplace.id}/groups`, { name: 'x', currency: 'usd' });
    expect(currency.status).toBe(400);
    const created = await landlord.admin.post(`/v1/marketplaces/${rival.id}/groups`, { name: 'Theirs' });
    expect(created.status).toBe(201);
    const uid = created.body.data.uid;
    expect((await landlord.admin.delete(`/v1/marketplaces/${marketplace.id}/groups/${uid}`)).status).toBe(404);
    expect(
      (
        await landlord.admin.post(`/v1/marketplaces/${marketplace.id}/groups/${uid}/users`, {
          email: `${uniqueName('x')}@example.com`,
          name: 'A',
          surname: 'B',
          role: 'Member',
        })
      ).status,
    ).toBe(404);
    const role = await landlord.admin.post(`/v1/marketplaces/${rival.id}/groups/${uid}/users`, {
      email: `${uniqueName('x')}@example.com`,
      name: 'A',
      surname: 'B',
      role: 'Overlord',
    });
    expect(role.status).toBe(400);
  });
});
