import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../test/helpers/http.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';
import {
  BILLING_PROFILE,
  must,
  type RoomleProduct,
  type RoomleSetup,
  roomleClient,
  roomleTenant,
  roomleUserClient,
  startRoomle,
} from './roomle.test-support.ts';

let roomle: RoomleSetup;
let landlord: TestLandlord;
let product: RoomleProduct;
let tenant: { id: number; name: string; apiKey: string };
let manager: ApiClient;
let payer: ApiClient;
let nobody: ApiClient;

beforeAll(async () => {
  roomle = await startRoomle();
  ({ landlord, product } = roomle);
  tenant = await roomleTenant(landlord, product);
  manager = await roomleUserClient(landlord, product, tenant.name, ['tenant_management']);
  payer = await roomleUserClient(landlord, product, tenant.name, ['tenant_payment']);
  nobody = await roomleUserClient(landlord, product, tenant.name, []);
});
afterAll(async () => {
  await roomle?.close();
});

const PROFILE = { ...BILLING_PROFILE, currency: 'EUR' };

describe('billing information', () => {
  it('is kept by Landlord: POST creates (tenant management), GET reads (current tenant), PUT replaces', async () => {
    const path = `/v2/tenants/${tenant.id}/billingInformation/`;
    expect((await nobody.get(path)).body.error.code).toBe('billing_profile.not_found');
    expect((await nobody.post(path, { billingInformation: PROFILE })).status).toBe(403);
    const created = await must(manager.post(path, { billingInformation: PROFILE }), 201);
    expect(created.body.billingInformation).toMatchObject({ id: tenant.id, ...PROFILE });
    expect(created.body.billingInformation.created).toMatch(/\.\d{3}Z$/);
    expect((await manager.post(path, { billingInformation: PROFILE })).status).toBe(409);
    const read = await must(nobody.get(path), 200);
    expect(read.body.billingInformation).toEqual(created.body.billingInformation);
    const replaced = await must(manager.put(path, { billingInformation: { ...PROFILE, company: null, vatId: null } }), 200);
    expect(replaced.body.billingInformation).toMatchObject({ company: null, vatId: null, name: 'Ada Buyer' });
  });

  it('refuses bad input naming the field, writing nothing', async () => {
    const path = `/v2/tenants/${tenant.id}/billingInformation/`;
    const before = (await must(manager.get(path), 200)).body.billingInformation;
    for (const [body, field] of [
      [{ billingInformation: { ...PROFILE, email: 'nope' } }, 'billingInformation.email'],
      [{ billingInformation: { ...PROFILE, currency: 'euro' } }, 'billingInformation.currency'],
      [{ billingInformation: { ...PROFILE, address: { country: 'Austria' } } }, 'billingInformation.address.country'],
      [{ billingInformation: { ...PROFILE, name: undefined } }, 'billingInformation.name'],
      [{ ...PROFILE }, 'billingInformation'],
    ] as const) {
      const refused = await manager.put(path, body);
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error.field).toBe(field);
    }
    expect((await must(manager.get(path), 200)).body.billingInformation).toEqual(before);
  });
});

describe('payment connections', () => {
  it('are stored per provider and store; listing needs tenant_payment, saving tenant management', async () => {
    const path = `/v2/tenants/${tenant.id}/paymentConnections/`;
    const connection = { provider: 'stripe', store: 'eu', customerReference: 'cus_123' };
    expect((await payer.post(path, { paymentConnection: connection })).status).toBe(403);
    const saved = await must(manager.post(path, { paymentConnection: connection }), 200);
    expect(saved.body.paymentConnection).toMatchObject(connection);
    const again = await must(manager.post(path, { paymentConnection: { ...connection, customerReference: 'cus_456' } }), 200);
    expect(again.body.paymentConnection.id).toBe(saved.body.paymentConnection.id);
    expect((await manager.get(path)).status).toBe(403);
    const listed = await must(payer.get(path), 200);
    expect(listed.body.paymentConnections).toEqual([again.body.paymentConnection]);
    expect(listed.body.meta.total).toBe(1);
    const bad = await manager.post(path, { paymentConnection: { ...connection, provider: 'Not Valid' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('paymentConnection.provider');
  });

  it('a billing-portal session needs a connection for the store, then answers 501: no payment provider is configured', async () => {
    const path = `/v2/tenants/${tenant.id}/paymentConnectionSessions/`;
    const unknownStore = await manager.post(path, { store: 'nowhere' });
    expect(unknownStore.status).toBe(404);
    expect(unknownStore.body.error).toMatchObject({ code: 'payment_connection.not_found', field: 'store' });
    const answer = await manager.post(path, { store: 'eu' });
    expect(answer.status).toBe(501);
    expect(answer.body.error).toMatchObject({ code: 'roomle.no_payment_provider', status: 501 });
    expect(answer.body.error.message).toMatch(/No payment provider is configured/);
    expect((await payer.post(path, { store: 'eu' })).status).toBe(403);
    // A provider that reports payments to Landlord still opens no billing portal through it.
    await must(
      landlord.admin.put(`/v1/products/${product.name}/payment-provider`, { provider: 'acmepay', secret: 'whsec_0123456789abcdef0123' }),
      200,
    );
    const configured = await manager.post(path, { store: 'eu' });
    expect(configured.status).toBe(501);
    expect(configured.body.error.code).toBe('roomle.no_billing_portal');
    expect(configured.body.error.message).toMatch(/acmepay/);
  });
});

describe('usages', () => {
  it('come from the usage service, for tenant_payment only', async () => {
    await must(landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: product.prices.tenant_basic }), 201);
    const at = new Date().toISOString();
    const reported = await must(
      product.client.post('/v1/usage', {
        events: [
          { id: 'r-1', tenant: tenant.name, feature: 'renders', quantity: 3, timestamp: at },
          { id: 'r-2', tenant: tenant.name, feature: 'renders', quantity: 4, timestamp: at },
        ],
      }),
      200,
    );
    expect(reported.body.data.accepted, reported.text).toBe(2);
    const path = `/v2/tenants/${tenant.id}/usages/`;
    expect((await manager.get(path)).status).toBe(403);
    const answer = await must(payer.get(path), 200);
    expect(answer.body.usages).toHaveLength(1);
    const [usage] = answer.body.usages;
    expect(usage).toMatchObject({ feature: 'renders', used: 7, events: 2, adjusted: 0 });
    expect(usage.id).toBe(`renders@${usage.from}`);
    expect(usage.from).toMatch(/\.\d{3}Z$/);
    expect((await payer.get(`${path}?from=yesterday`)).body.error.field).toBe('querystring.from');
  });
});

describe('Roomle product data', () => {
  it('catalogs, configurators, asset processings and tags answer 501 saying Landlord does not manage them', async () => {
    for (const name of ['catalogs', 'visibleCatalogs', 'shownCatalogs', 'enabledTags', 'assetProcessings', 'configurators']) {
      const answer = await nobody.get(`/v2/tenants/${tenant.id}/${name}/`);
      expect(answer.status, name).toBe(501);
      expect(answer.body.error.code).toBe('roomle.not_managed');
      expect(answer.body.error.message).toMatch(/Landlord does not manage/);
    }
    const other = await roomleTenant(landlord, product);
    expect((await nobody.get(`/v2/tenants/${other.id}/catalogs/`)).status).toBe(404);
    expect((await roomleClient(landlord, {}).get(`/v2/tenants/${tenant.id}/catalogs/`)).status).toBe(401);
  });
});
