import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';
import {
  addUser,
  basicClient,
  type CreatedMarketplace,
  createGroup,
  createMarketplace,
  documentMarketplace,
} from './marketplaces.test-support.ts';

// Every request of the Maestrano document, replayed against Landlord as the SDKs send it; each
// answer is checked field by field against the document's example (keys, order, types, values).

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// The document's examples (only their keys and fixed values are compared).
const DOC_GROUP = {
  object: 'account_group',
  id: 'cld-4',
  created_at: '2014-05-21T04:04:53Z',
  updated_at: '2014-05-21T04:04:53Z',
  has_credit_card: true,
  status: 'running',
  name: 'Logistics Department - Sales',
  free_trial_end_at: '2014-06-21T04:04:53Z',
  email: 'cld-4@example.com',
  currency: 'USD',
  timezone: 'America/Los_Angeles',
  country: 'US',
  city: 'Los Angeles',
};
const DOC_USER = {
  object: 'account_user',
  id: 'usr-2',
  name: 'John',
  surname: 'Doe',
  email: 'john.doe@gmail.com',
  country: 'AU',
  sso_session: 'd7kp1b5esnfgtz6xhiv9qwlja34yu8crm2o0',
  created_at: '2014-05-21T00:37:34Z',
  updated_at: '2015-03-09T06:37:28Z',
};
const DOC_BILL = {
  object: 'account_bill',
  id: 'bill-520',
  group_id: 'cld-4',
  created_at: '2015-06-03T05:00:33Z',
  updated_at: '2015-06-03T05:00:33Z',
  price_cents: 2000,
  status: 'submitted',
  currency: 'AUD',
  units: null,
  description: 'Product purchase',
  period_started_at: null,
  period_ended_at: null,
};
const DOC_RECURRING = {
  object: 'account_recurring_bill',
  id: 'rbill-523',
  group_id: 'cld-4',
  created_at: '2015-06-03T05:02:19Z',
  updated_at: '2015-06-03T05:02:19Z',
  price_cents: 2990,
  status: 'submitted',
  currency: 'AUD',
  description: 'User license',
  start_date: '2015-08-27T23:22:37Z',
  period: 'month',
  frequency: 1,
  cycles: null,
  initial_cents: 0,
  last_execution_at: null,
  next_execution_at: '2015-08-27T23:22:37Z',
  remaining_cycles: null,
};

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let maestrano: CreatedMarketplace;
let telco: CreatedMarketplace;
let group: { uid: string; tenant: { id: string; name: string } };
let user: { uid: string; email: string };

/** Checks an item against the document's example: the same keys in the same order, the same JSON types, timestamps without milliseconds. */
function expectShape(actual: Record<string, unknown>, example: Record<string, unknown>, nullable: string[] = []) {
  expect(Object.keys(actual)).toEqual(Object.keys(example));
  for (const [key, value] of Object.entries(example)) {
    if (actual[key] === null && (value === null || nullable.includes(key))) continue;
    if (value === null) continue;
    expect(typeof actual[key], key).toBe(typeof value);
    if (typeof value === 'string' && TIME.test(value)) expect(actual[key], key).toMatch(TIME);
  }
}

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  maestrano = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
  telco = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'some-telco'));
  const plan = uniqueName('plan');
  await landlord.admin.post(`/v1/products/${product.name}/plans`, { name: plan, displayName: 'Plan' });
  const price = await landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/prices`, {
    name: uniqueName('price'),
    cycle: 'month',
    amount: 1000,
    currency: 'AUD',
    trialDays: 31,
  });
  expect(price.status).toBe(201);
  await landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/publish`);
  await landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/prices/${price.body.data.name}/publish`);
  group = await createGroup(landlord, maestrano.id, { price: price.body.data.name });
  await waitForStatus(landlord, group.tenant.name, 'created_as_active');
  user = await addUser(landlord, maestrano.id, group.uid, { email: `${uniqueName('john')}@example.com`, role: 'Super Admin' });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

describe('the dynamic configuration endpoint', () => {
  it('answers both marketplaces of the environment in the document’s shape, with the IdP certificate and its SHA-1 fingerprint', async () => {
    expect(maestrano.environment).not.toBeNull();
    expect(telco.environment).toBeNull();
    const { key, secret } = maestrano.environment as { key: string; secret: string };
    for (const path of ['/api/config/v1/marketplaces', '/api/config/v1/marketplaces/']) {
      const response = await basicClient(landlord.url, key, secret).get(path);
      expect(response.status).toBe(200);
      const entries = response.body.marketplaces;
      expect(entries.map((entry: { marketplace: string }) => entry.marketplace)).toEqual(['maestrano', 'some-telco']);
      const entry = entries[0];
      expect(Object.keys(entry)).toEqual(['marketplace', 'nid', 'environment', 'app', 'api', 'sso', 'connec', 'webhooks']);
      expect(entry.nid).toBe('demo-app-production');
      expect(entry.environment).toBe('demo-app');
      expect(entry.app).toEqual({ host: backend.url });
      expect(entry.api).toEqual({ id: maestrano.apiId, key: maestrano.apiKey, host: landlord.url, base: '/api/v1/' });
      expect(entry.sso).toMatchObject({
        idm: backend.url,
        init_path: '/maestrano/auth/saml/init/maestrano-dev',
        consume_path: '/maestrano/auth/saml/consume/maestrano-dev',
        idp: landlord.url,
      });
      expect(entry.sso.x509_fingerprint).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      expect(entry.sso.x509_certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
      expect(entry.connec).toEqual({ host: 'https://api-connec.maestrano.com', base_path: '/api/v2', timeout: 300 });
      expect(entry.webhooks).toEqual({
        account: {
          group_path: '/maestrano/account/groups/:id/maestrano-dev',
          group_user_path: '/maestrano/account/groups/:group_id/users/:id/maestrano-dev',
        },
        connec: {
          external_ids: true,
          initialization_path: null,
          notification_path: '/maestrano/connec/notifications/maestrano-dev',
          subscriptions: null,
        },
      });
      // Each marketplace signs with its own certificate.
      expect(entries[1].sso.x509_fingerprint).not.toBe(entry.sso.x509_fingerprint);
    }
  });

  it('refuses wrong environment credentials with 401 and a top-level error', async () => {
    const { key } = maestrano.environment as { key: string };
    for (const client of [
      basicClient(landlord.url, key, 'wrong-secret'),
      basicClient(landlord.url, maestrano.apiId, maestrano.apiKey),
      apiClient(landlord.url),
    ]) {
      const response = await client.get('/api/config/v1/marketplaces');
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'Invalid credentials', success: false });
    }
  });
});

describe('the account API, request by request', () => {
  it('GET groups and groups/{id}', async () => {
    const list = await maestrano.account.get('/api/v1/account/groups');
    expect(list.status).toBe(200);
    expect(list.body.success).toBe(true);
    expect(list.body.errors).toEqual({});
    expect(list.body.data).toHaveLength(1);
    const one = await maestrano.account.get(`/api/v1/account/groups/${group.uid}`);
    expect(one.status).toBe(200);
    for (const data of [list.body.data[0], one.body.data]) {
      expectShape(data, DOC_GROUP);
      expect(data).toMatchObject({
        object: 'account_group',
        id: group.uid,
        has_credit_card: true,
        status: 'running',
        name: 'Logistics Department - Sales',
        currency: 'AUD',
        timezone: 'America/Los_Angeles',
        country: 'US',
        city: 'Los Angeles',
      });
      expect(data.free_trial_end_at).toMatch(TIME);
    }
  });

  it('GET users and users/{id}, also filtered by group_id', async () => {
    for (const path of ['/api/v1/account/users', `/api/v1/account/users?group_id=${group.uid}`]) {
      const list = await maestrano.account.get(path);
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(1);
      expectShape(list.body.data[0], DOC_USER, ['sso_session', 'country']);
    }
    const one = await maestrano.account.get(`/api/v1/account/users/${user.uid}`);
    expect(one.status).toBe(200);
    expectShape(one.body.data, DOC_USER, ['sso_session']);
    expect(one.body.data).toMatchObject({
      object: 'account_user',
      id: user.uid,
      name: 'John',
      surname: 'Doe',
      email: user.email,
      country: 'AU',
    });
    expect((await maestrano.account.get('/api/v1/account/users?group_id=cld-999999')).body.data).toEqual([]);
  });

  it('POST bills (JSON, as the Java SDK), GET it, list it, DELETE it → cancelled', async () => {
    const created = await maestrano.account.post('/api/v1/account/bills', {
      group_id: group.uid,
      price_cents: 2000,
      description: 'Product purchase',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, errors: {} });
    expectShape(created.body.data, DOC_BILL);
    const { id, created_at, updated_at, ...rest } = created.body.data;
    expect(id).toMatch(/^bill-\d+$/);
    expect(created_at).toBe(updated_at);
    // Every field but the id and the times is the document's example, but for the group (ours).
    const { id: _id, created_at: _created, updated_at: _updated, ...example } = DOC_BILL;
    expect(rest).toEqual({ ...example, group_id: group.uid });
    const read = await maestrano.account.get(`/api/v1/account/bills/${id}`);
    expect(read.body.data).toEqual(created.body.data);
    const list = await maestrano.account.get('/api/v1/account/bills');
    expect(list.body.data.map((bill: { id: string }) => bill.id)).toContain(id);
    const cancelled = await maestrano.account.delete(`/api/v1/account/bills/${id}`);
    expect(cancelled.status).toBe(200);
    expectShape(cancelled.body.data, DOC_BILL);
    expect(cancelled.body.data).toEqual({ ...created.body.data, status: 'cancelled', updated_at: cancelled.body.data.updated_at });
  });

  it('POST bills form-encoded (as the Ruby and PHP SDKs), with every optional field', async () => {
    const form =
      `group_id=${group.uid}&price_cents=2000&description=Product%20purchase&currency=USD&units=2.5` +
      '&period_started_at=2015-06-01T00%3A00%3A00Z&period_ended_at=2015-07-01T00%3A00%3A00Z';
    const created = await maestrano.account.raw('POST', '/api/v1/account/bills', form, {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'maestrano-ruby/1.0.6',
    });
    expect(created.status).toBe(201);
    expectShape(created.body.data, DOC_BILL, ['units', 'period_started_at', 'period_ended_at']);
    expect(created.body.data).toMatchObject({
      price_cents: 2000,
      description: 'Product purchase',
      currency: 'USD',
      units: 2.5,
      period_started_at: '2015-06-01T00:00:00Z',
      period_ended_at: '2015-07-01T00:00:00Z',
    });
    // The Ruby SDK sends its form content type on GET and DELETE too.
    const read = await maestrano.account.get(`/api/v1/account/bills/${created.body.data.id}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(read.status).toBe(200);
    const cancelled = await maestrano.account.delete(`/api/v1/account/bills/${created.body.data.id}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe('cancelled');
  });

  it('POST recurring_bills, GET it, list it, DELETE it → cancelled', async () => {
    const start = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const created = await maestrano.account.post('/api/v1/account/recurring_bills', {
      group_id: group.uid,
      price_cents: 2990,
      description: 'User license',
      period: 'Month',
      start_date: start,
    });
    expect(created.status).toBe(201);
    expectShape(created.body.data, DOC_RECURRING);
    expect(created.body.data).toMatchObject({
      object: 'account_recurring_bill',
      group_id: group.uid,
      price_cents: 2990,
      status: 'submitted',
      currency: 'AUD',
      description: 'User license',
      start_date: start,
      period: 'month',
      frequency: 1,
      cycles: null,
      initial_cents: 0,
      last_execution_at: null,
      next_execution_at: start,
      remaining_cycles: null,
    });
    const id = created.body.data.id;
    expect(id).toMatch(/^rbill-\d+$/);
    expect((await maestrano.account.get(`/api/v1/account/recurring_bills/${id}`)).body.data).toEqual(created.body.data);
    const list = await maestrano.account.get(`/api/v1/account/recurring_bills?group_id=${group.uid}`);
    expect(list.body.data.map((bill: { id: string }) => bill.id)).toContain(id);
    const cancelled = await maestrano.account.delete(`/api/v1/account/recurring_bills/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toEqual({ ...created.body.data, status: 'cancelled', updated_at: cancelled.body.data.updated_at });
  });
});
