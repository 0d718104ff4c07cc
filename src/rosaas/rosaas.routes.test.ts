import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createPlanPrice, createSpecification, uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { ROSAAS, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
let other: WiredProduct;
let price: { price: string; id: string };

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { autoSendCreation: false });
  other = await wireProduct(landlord, backend, { autoSendCreation: false });
  await createSpecification(landlord.admin, wired.product.name, {
    name: 'vatNumber',
    displayName: 'VAT number',
    type: 'string',
    required: true,
    pattern: '^[A-Z]{2}[0-9]+$',
  });
  price = await createPlanPrice(landlord.admin, wired.product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const create = (name: string, extra: Record<string, unknown> = {}) =>
  wired.backend.post(`${ROSAAS}/tenants`, {
    tenantSystemName: name,
    tenantDisplayName: `Tenant ${name}`,
    specifications: [{ systemName: 'vatNumber', value: 'SE123' }],
    ...extra,
  });

describe('POST /api/identity/apps/v1/auth', () => {
  it('answers good client credentials with a bearer token in data.token.accessToken', async () => {
    const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', {
      clientId: wired.clientId,
      clientSecret: wired.clientSecret,
    });
    expect(auth.status).toBe(200);
    expect(auth.body.metadata).toEqual({ errors: [], success: true });
    expect(auth.body.data.token).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    const token = auth.body.data.token.accessToken;
    expect((await apiClient(landlord.url, token).get(`${ROSAAS}/tenants`)).status).toBe(200);
  });

  it('answers bad credentials with 400 and an error', async () => {
    const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', { clientId: wired.clientId, clientSecret: 'llcs_wrong' });
    expect(auth.status).toBe(400);
    expect(auth.body.metadata.success).toBe(false);
    expect(auth.body.metadata.errors[0]).toMatchObject({
      sysCode: expect.any(String),
      message: expect.any(String),
      parameter: expect.any(String),
    });
  });

  it('refuses the management API without a token (401)', async () => {
    expect((await apiClient(landlord.url).get(`${ROSAAS}/tenants`)).status).toBe(401);
  });
});

describe('tenants', () => {
  it('creates a tenant with a plan price and specification values, and reads it back in RoSaaS shape', async () => {
    const name = uniqueName('ro');
    const created = await create(name.toUpperCase(), { planPriceSystemName: price.price });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ navigationUrl: null, tenantSystemName: name });

    const read = await wired.backend.get(`${ROSAAS}/tenants/${name.toUpperCase()}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({
      systemName: name,
      displayName: `Tenant ${name.toUpperCase()}`,
      status: 1,
      statusName: 'RecordCreated',
      step: 0,
      isActive: false,
      metadata: {},
      plan: { planPriceId: price.id, planPriceSystemName: price.price },
      specifications: [{ systemName: 'vatNumber', displayName: 'VAT number', value: 'SE123' }],
    });
    const status = await wired.backend.get(`${ROSAAS}/tenants/${name}/status`);
    expect(status.body.data).toEqual({ isActive: false, status: 1 });
    const all = await wired.backend.get(`${ROSAAS}/tenants`);
    expect(all.body.data.map((tenant: any) => tenant.systemName)).toContain(name);
  });

  it('names a bad specification value and a missing required one', async () => {
    const bad = await create(uniqueName('ro'), { specifications: [{ systemName: 'vatNumber', value: 'nope' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0]).toMatchObject({ parameter: 'specifications.vatNumber' });
    const missing = await create(uniqueName('ro'), { specifications: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.metadata.errors[0].parameter).toBe('specifications.vatNumber');
  });

  it('replaces and reads metadata', async () => {
    const name = uniqueName('ro');
    await create(name);
    expect((await wired.backend.post(`${ROSAAS}/tenants/${name}/metadata`, { url: 'https://x.example', seats: 3 })).body).toEqual({
      metadata: { errors: [], success: true },
    });
    await wired.backend.post(`${ROSAAS}/tenants/${name}/metadata`, { url: 'https://y.example' });
    expect((await wired.backend.get(`${ROSAAS}/tenants/${name}/metadata`)).body.data).toEqual({ url: 'https://y.example' });
  });

  it("answers an unknown tenant and another product's tenant alike: 400, sysCode 1005", async () => {
    const mine = uniqueName('ro');
    await create(mine);
    for (const response of [
      await wired.backend.get(`${ROSAAS}/tenants/nobody-here`),
      await other.backend.get(`${ROSAAS}/tenants/${mine}`),
    ]) {
      expect(response.status).toBe(400);
      expect(response.body.metadata).toMatchObject({
        success: false,
        errors: [{ sysCode: '1005', message: "This Resource does not exist or may be deleted or You don't have access" }],
      });
    }
    const report = await other.backend.post(`${ROSAAS}/tenants/${mine}/created`, {});
    expect(report.status).toBe(400);
    expect((await wired.backend.get(`${ROSAAS}/tenants/${mine}/status`)).body.data.status).toBe(1);
  });

  it('refuses a report that does not fit the status (409) and malformed JSON (400), changing nothing', async () => {
    const name = uniqueName('ro');
    await create(name);
    const early = await wired.backend.post(`${ROSAAS}/tenants/${name}/active`, {});
    expect(early.status).toBe(409);
    expect(early.body.metadata.errors[0].code).toBe('tenant.transition_not_allowed');
    const garbled = await wired.backend.raw('POST', `${ROSAAS}/tenants/${name}/failure`, '{"why":', { 'content-type': 'application/json' });
    expect(garbled.status).toBe(400);
    expect((await wired.backend.get(`${ROSAAS}/tenants/${name}/status`)).body.data.status).toBe(1);
    expect((await landlord.admin.get(`/v1/tenants/${name}/history?kind=report`)).body.data).toEqual([]);
  });

  it('refuses subscription change reports when no plan change is in flight, and records none of them', async () => {
    const name = uniqueName('ro');
    await create(name);
    for (const path of ['upgrade', 'downgrade', 'reset', 'upgrade/failure']) {
      const response = await wired.backend.post(`${ROSAAS}/tenants/${name}/subscription/${path}`, { note: path });
      expect(response.status).toBe(409);
      expect(response.body.metadata).toMatchObject({
        success: false,
        errors: [expect.objectContaining({ code: 'plan_change.not_in_flight' })],
      });
    }
    expect((await landlord.admin.get(`/v1/tenants/${name}/history?kind=report`)).body.data).toEqual([]);
  });
});

describe('catalogue', () => {
  it('lists the published plans with their prices, and the published specifications', async () => {
    const plans = await wired.backend.get(`${ROSAAS}/plans`);
    expect(plans.status).toBe(200);
    expect(plans.body.data).toHaveLength(1);
    expect(plans.body.data[0].prices[0]).toMatchObject({ name: price.price, amount: 1000, currency: 'EUR', cycle: 'month' });
    const specs = await wired.backend.get(`${ROSAAS}/specifications`);
    expect(specs.body.data.map((spec: any) => spec.name)).toEqual(['vatNumber']);
    expect((await other.backend.get(`${ROSAAS}/plans`)).body.data).toEqual([]);
  });
});

describe('POST /api/management/apps/v1/tempendpoints/admins', () => {
  it('lets only a super admin create a super admin', async () => {
    const refused = await wired.backend.post(`${ROSAAS}/tempendpoints/admins`, { email: 'root@example.com' });
    expect(refused.status).toBe(403);
    const created = await landlord.admin.post(`${ROSAAS}/tempendpoints/admins`, { email: 'root@example.com' });
    expect(created.status).toBe(201);
    expect((await landlord.as(created.body.data.apiKey).get('/v1/products')).status).toBe(200);
  });
});
