import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// The console's remaining actions, each through the real app and the same services as /v1.
let landlord: TestLandlord;
let backend: BackendSimulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let product: PeopleProduct;
let admin: ConsoleSession;

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  receiver = await startReceiver();
  product = await peopleProduct(landlord, backend.url);
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
  await receiver?.close();
});

describe('people', () => {
  it('pages a tenant’s users 100 at a time, each once', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const logins = Array.from({ length: 101 }, (_, index) => `p${String(index).padStart(3, '0')}-${uniqueName('u')}`);
    for (const login of logins) {
      const added = await product.client.post(`/v1/tenants/${tenant.name}/users`, {
        email: `${login}@example.com`,
        login,
        roles: ['member'],
      });
      expect(added.status, added.text).toBe(201);
    }
    const shown = (text: string) => logins.filter((login) => text.includes(`<td>${login}</td>`));
    const first = await admin.get(`/console/tenants/${tenant.id}?tab=people`);
    const next = /<a rel="next" href="([^"]+)">More people<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toMatch(new RegExp(`^/console/tenants/${tenant.id}\\?tab=people&cursor=`));
    const second = await admin.get(next as string);
    expect(second.text).not.toContain('More people');
    expect(shown(first.text)).toHaveLength(100);
    expect([...shown(first.text), ...shown(second.text)].sort()).toEqual([...logins].sort());
  });

  it('lists a tenant’s users and issues a one-time login link, shown once and audited', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const login = uniqueName('u');
    const added = await product.client.post(`/v1/tenants/${tenant.name}/users`, {
      email: `${login}@example.com`,
      login,
      roles: ['member'],
    });
    expect(added.status, added.text).toBe(201);
    if (added.body.data.invitation) {
      const accepted = await landlord
        .as(undefined)
        .post('/v1/invitations/accept', { token: added.body.data.invitation.token, fullName: 'Sam' });
      expect(accepted.status, accepted.text).toBe(200);
    }
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=people`);
    expect(tab.text).toContain(login);
    const issued = await admin.post(`/console/tenants/${tenant.id}/people/${login}/login-link`);
    expect(issued.status).toBe(200);
    expect(issued.text).toMatch(/\/login\/llln_[A-Za-z0-9]{38}/);
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'login_link.create')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
    expect((await admin.post(`/console/tenants/${tenant.id}/people/nobody/login-link`)).status).toBe(404);
  });
});

describe('timeline', () => {
  it('shows the creation call with its answer and duration, and filters by kind', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const all = await admin.get(`/console/tenants/${tenant.id}`);
    expect(all.text).toContain('<span class="badge neutral">transition</span>');
    expect(all.text).toMatch(/\/creation → HTTP 200 in \d+ ms/);
    const calls = await admin.get(`/console/tenants/${tenant.id}?tab=timeline&kind=call`);
    expect(calls.text).toContain('<span class="badge warn">call</span>');
    expect(calls.text).not.toContain('<span class="badge neutral">transition</span>');
  });
});

describe('health controls', () => {
  it('probes a live tenant now, pauses and resumes its probing with a reason, all audited', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=health`);
    expect(tab.text).toContain(`action="/console/tenants/${tenant.id}/health/pause"`);
    expect((await admin.post(`/console/tenants/${tenant.id}/health/probe`)).status).toBe(303);
    expect((await admin.post(`/console/tenants/${tenant.id}/health/pause`, { reason: 'maintenance window' })).status).toBe(303);
    const paused = (await landlord.admin.get(`/v1/tenants/${tenant.id}`)).body.data.health;
    expect(paused).toMatchObject({ paused: true });
    const after = await admin.get(`/console/tenants/${tenant.id}?tab=health`);
    expect(after.text).toContain('maintenance window');
    expect((await admin.post(`/console/tenants/${tenant.id}/health/resume`)).status).toBe(303);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.id}`)).body.data.health).toMatchObject({ paused: false });
    const actions = await landlord.node.services.db
      .selectFrom('audit_log')
      .select('action')
      .where('object_id', '=', tenant.id)
      .where('actor_id', '=', 'admin-key')
      .execute();
    expect(actions.map((row) => row.action)).toEqual(
      expect.arrayContaining(['tenant.health_probe', 'tenant.health_pause', 'tenant.health_resume']),
    );
  });
});

describe('clients', () => {
  it('rotates a client’s secret (the new one shown once, the old one refused)', async () => {
    const created = await landlord.admin.post(`/v1/products/${product.name}/clients`, { name: 'to-rotate' });
    const { id, clientId, clientSecret } = created.body.data;
    const rotated = await admin.post(`/console/products/${product.id}/clients/${id}/rotate`);
    expect(rotated.status).toBe(200);
    const secret = /(llcs_[A-Za-z0-9]{38})/.exec(rotated.text)?.[1];
    expect(secret).toBeDefined();
    expect(secret).not.toBe(clientSecret);
    const token = (secretValue: string) =>
      landlord.as(undefined).post('/v1/auth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: secretValue });
    expect((await token(secret ?? '')).status).toBe(200);
    expect((await token(clientSecret)).status).toBe(400);
  });
});

describe('webhook endpoints', () => {
  it('rotates the signing secret, re-enables a disabled endpoint, and resends a delivery', async () => {
    const created = await landlord.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/resend`, product: product.name });
    const endpoint = created.body.data;
    const rotated = await admin.post(`/console/webhooks/${endpoint.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.text).toMatch(/whsec_/);
    expect(rotated.text).not.toContain(endpoint.secret);
    expect((await admin.post(`/console/webhooks/${endpoint.id}/disable`)).status).toBe(303);
    expect((await admin.post(`/console/webhooks/${endpoint.id}/enable`)).status).toBe(303);
    expect((await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}`)).body.data.enabled).toBe(true);

    await admin.post(`/console/webhooks/${endpoint.id}/test`);
    await eventually(async () => (receiver.at('/resend').length === 1 ? true : undefined), 15_000, 'the first delivery');
    const page = await admin.get(`/console/webhooks/${endpoint.id}`);
    const deliveryId = /\/console\/deliveries\/([0-9a-f-]{36})"/.exec(page.text)?.[1] ?? '';
    const detail = await admin.get(`/console/deliveries/${deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Attempts');
    expect((await admin.post(`/console/deliveries/${deliveryId}/resend`)).status).toBe(303);
    await eventually(async () => (receiver.at('/resend').length === 2 ? true : undefined), 15_000, 'the resent delivery');
  });

  it('answers 404 for another product’s endpoint to a product-scoped operator, and changes nothing', async () => {
    const foreign = await landlord.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/foreign` });
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    expect((await scoped.get(`/console/webhooks/${foreign.body.data.id}`)).status).toBe(404);
    expect((await scoped.post(`/console/webhooks/${foreign.body.data.id}/disable`)).status).toBe(404);
    expect((await landlord.admin.get(`/v1/webhook-endpoints/${foreign.body.data.id}`)).body.data.enabled).toBe(true);
  });
});
