import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { Browser } from '../identity/identity.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// The console's forms (CSRF, Origin, confirmations, secrets shown once), idle expiry, and LANDLORD_CONSOLE=off.
let landlord: TestLandlord;
let admin: ConsoleSession;
let backend: BackendSimulator;
let product: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const statusOf = async (tenant: string) => (await landlord.admin.get(`/v1/tenants/${tenant}`)).body.data.status as string;

describe('actions', () => {
  it('refuses a form without the CSRF token, or from another origin, and changes nothing', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const path = `/console/tenants/${tenant.id}/actions/send_creation_request`;
    const noToken = await admin.browser.send('POST', path, {}, { origin: landlord.url });
    expect(noToken.status).toBe(403);
    const wrongToken = await admin.post(path, { _csrf: 'x'.repeat(43) });
    expect(wrongToken.status).toBe(403);
    const foreign = await admin.post(path, {}, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const noOrigin = await admin.browser.send('POST', path, { _csrf: admin.csrf });
    expect(noOrigin.status).toBe(403);
    expect(await statusOf(tenant.id)).toBe('record_created');
  });

  // The product has a backend that accepts the creation in its answer, so the action ends in a settled status.
  // (Without a creation URL the call is refused at once and the tenant is back in record_created within
  // milliseconds: a test polling for "not record_created" then raced the job and lost now and then.)
  it('takes an action the tenant allows and records it with the operator as actor', async () => {
    const withBackend = await createProduct(landlord.admin, {
      provisioning: { autoSendCreation: false, mode: 'response' },
      webhooks: { creation: `${backend.url}/{name}/create` },
    });
    const tenant = await createTenant(landlord.admin, withBackend.name);
    const page = await admin.get(`/console/tenants/${tenant.id}`);
    expect(page.text).toContain(`action="/console/tenants/${tenant.id}/actions/send_creation_request"`);
    const done = await admin.post(`/console/tenants/${tenant.id}/actions/send_creation_request`);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`/console/tenants/${tenant.id}?notice=requested`);
    await backend.waitFor((request) => request.path === `/${tenant.name}/create`, 20_000);
    await eventually(
      async () => ((await statusOf(tenant.id)) === 'created_as_active' ? true : undefined),
      20_000,
      'the creation accepted by the backend',
    );
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .selectAll()
      .where('object_id', '=', tenant.id)
      .where('action', '=', 'tenant.send_creation_request')
      .executeTakeFirstOrThrow();
    expect({ type: audit.actor_type, id: audit.actor_id }).toEqual({ type: 'admin_key', id: 'admin-key' });
  });

  it('refuses an action the tenant does not allow now (409), and an unknown one (400)', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    expect((await admin.post(`/console/tenants/${tenant.id}/actions/activate`)).status).toBe(409);
    expect((await admin.post(`/console/tenants/${tenant.id}/actions/explode`)).status).toBe(400);
  });

  it('deletes a tenant only when the confirmation names it', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const path = `/console/tenants/${tenant.id}/actions/delete`;
    const page = await admin.get(`/console/tenants/${tenant.id}`);
    expect(page.text).toContain(`Type <span class="mono">${tenant.name}</span> to delete`);
    expect((await admin.post(path)).status).toBe(422);
    expect((await admin.post(path, { confirm: `${tenant.name}x` })).status).toBe(422);
    expect(await statusOf(tenant.id)).toBe('record_created');
    expect((await admin.post(path, { confirm: tenant.name })).status).toBe(303);
    expect(await statusOf(tenant.id)).toBe('deleted');
  });

  it('creates a client and shows its secret once; revoking needs its name', async () => {
    const created = await admin.post(`/console/products/${product.id}/clients`, { name: 'console-made' });
    expect(created.status).toBe(200);
    expect(created.text).toMatch(/llcs_[A-Za-z0-9]{38}/);
    const client = (await landlord.admin.get(`/v1/products/${product.name}/clients`)).body.data.find(
      (row: any) => row.name === 'console-made',
    );
    const product404 = await admin.get(`/console/products/${product.id}`);
    expect(product404.text).not.toMatch(/llcs_[A-Za-z0-9]{38}/);
    expect((await admin.post(`/console/products/${product.id}/clients/${client.id}/revoke`, { confirm: 'nope' })).status).toBe(422);
    expect((await admin.post(`/console/products/${product.id}/clients/${client.id}/revoke`, { confirm: 'console-made' })).status).toBe(303);
  });

  it('creates an operator key shown once, and revokes it only when confirmed by name', async () => {
    const created = await admin.post('/console/operators', { name: 'console-key', role: 'product_admin', product: product.name });
    expect(created.status).toBe(200);
    const key = /(ll_[A-Za-z0-9]{38})/.exec(created.text)?.[1];
    expect(key).toBeDefined();
    const row = await landlord.node.services.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', 'console-key')
      .executeTakeFirstOrThrow();
    expect((await admin.post(`/console/operators/${row.id}/revoke`)).status).toBe(422);
    expect((await landlord.as(key).get('/v1/tenants')).status).toBe(200);
    expect((await admin.post(`/console/operators/${row.id}/revoke`, { confirm: 'console-key' })).status).toBe(303);
    // Every node drops the key from its cache when it hears the NOTIFY of the revocation.
    await eventually(async () => ((await landlord.as(key).get('/v1/tenants')).status === 401 ? true : undefined), 10_000, 'key refused');
  });
});

describe('idle expiry', () => {
  it('ends a console session unused for LANDLORD_CONSOLE_IDLE_MINUTES, and keeps one in use', async () => {
    const clock = manualClock(new Date());
    const node = await startTestLandlord({ clock, env: { LANDLORD_CONSOLE_IDLE_MINUTES: '30' } });
    try {
      const session = await signInToConsole(node.url, TEST_ADMIN_KEY);
      for (let step = 0; step < 3; step++) {
        clock.advance(25 * 60_000);
        expect((await session.get('/console/audit')).status).toBe(200);
      }
      clock.advance(31 * 60_000);
      expect((await session.get('/console/audit')).status).toBe(303);
    } finally {
      await node.close();
    }
  });
});

describe('LANDLORD_CONSOLE=off', () => {
  it('serves no console at all', async () => {
    const off = await startTestLandlord({ env: { LANDLORD_CONSOLE: 'off' } });
    try {
      expect((await new Browser(off.url).get('/console/signin')).status).toBe(404);
      expect((await new Browser(off.url).get('/console')).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
