import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createPlanPrice, createProduct, createTenant, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { Browser } from '../identity/identity.test-support.ts';
import { ASSETS } from './assets.ts';
import { type ConsoleSession, signInToConsole, startConsoleWorld } from './console.test-support.ts';

// The console's pages through the real app: what each shows, escaping, scoping, filters, htmx fragments.
let landlord: TestLandlord;
let admin: ConsoleSession;
let product: { id: string; name: string };
let other: { id: string; name: string };

beforeAll(async () => {
  ({ landlord, admin, product, other } = await startConsoleWorld());
});
afterAll(async () => {
  await landlord?.close();
});

const statusOf = async (tenant: string) => (await landlord.admin.get(`/v1/tenants/${tenant}`)).body.data.status as string;

describe('pages', () => {
  it('renders every page for a super admin', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    for (const path of [
      '/console',
      '/console/products',
      `/console/products/${product.id}`,
      '/console/tenants',
      `/console/tenants?q=${tenant.name.slice(0, 8)}&status=record_created`,
      ...['timeline', 'health', 'people', 'connections', 'metadata', 'audit'].map((tab) => `/console/tenants/${tenant.id}?tab=${tab}`),
      `/console/tenants/${tenant.id}?tab=health&window=30d`,
      '/console/events',
      '/console/events/catalogue',
      '/console/webhooks',
      '/console/audit',
      '/console/operators',
      '/console/system',
    ]) {
      const page = await admin.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers['content-security-policy'], path).toContain("default-src 'self'");
      expect(page.text, path).toContain('<main id="main">');
    }
  });

  it('shows a product’s settings and warnings, its backend api key masked', async () => {
    const secretive = await createProduct(landlord.admin, {
      apiKey: 'backend-api-key-that-must-stay-hidden',
      webhooks: { creation: 'https://backend.example/{name}/create' },
    });
    const page = await admin.get(`/console/products/${secretive.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('https://backend.example/{name}/create');
    expect(page.text).toContain('No deactivation URL');
    expect(page.text).not.toContain('backend-api-key-that-must-stay-hidden');
    expect(page.text).toContain('••••dden');
  });

  it('shows a tenant’s events and an event’s payload; another product’s event is 404 to a scoped operator', async () => {
    const tenant = await createTenant(landlord.admin, other.name);
    const feed = await eventually(
      async () => {
        const page = await admin.get(`/console/events?tenant=${tenant.id}`);
        return /\/console\/events\/[0-9a-f-]{36}"/.test(page.text) ? page : undefined;
      },
      10_000,
      'the tenant’s event in the feed',
    );
    const eventId = /\/console\/events\/([0-9a-f-]{36})"/.exec(feed.text)?.[1] ?? '';
    const event = await admin.get(`/console/events/${eventId}`);
    expect(event.status).toBe(200);
    expect(event.text).toContain(tenant.name);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    expect((await scoped.get(`/console/events/${eventId}`)).status).toBe(404);
    expect((await scoped.get(`/console/events?tenant=${tenant.id}`)).text).not.toContain(eventId);
  });

  it('shows the system: nodes, job queue, sweeps with their state, configuration without secrets, migrations', async () => {
    const page = await admin.get('/console/system');
    expect(page.text).toContain(landlord.node.services.nodeId);
    expect(page.text).toMatch(/<td class="mono">report-deadlines<\/td><td>running<\/td>/);
    expect(page.text).toContain('0014 0014_console');
    expect(page.text).not.toContain(TEST_ADMIN_KEY);
    expect(page.text).not.toContain(landlord.database.url);
  });

  it('draws the health charts from the hourly probe totals, with the numbers in text too', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await landlord.node.services.db
      .insertInto('tenant_probe_hourly')
      .values(
        [1, 2, 3].map((back, index) => ({
          tenant_id: tenant.id,
          hour: new Date(hour - back * 3_600_000),
          probes: 10,
          failures: index,
          observed_ms: 3_600_000,
          down_ms: 0,
          latency_sum_ms: 10 * 40 * (index + 1),
          latency_hist: [],
        })),
      )
      .execute();
    const page = await admin.get(`/console/tenants/${tenant.id}?tab=health`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Uptime: from 80 to 100 % over 3 of 24 periods with data.');
    expect(page.text).toContain('Average latency: from 40 to 120 ms over 3 of 24 periods with data.');
    expect(page.text.match(/<rect /g)?.length).toBe(2 * (24 + 1));
  });

  it('shows failures and unhealthy tenants on the overview, each operator only its product’s', async () => {
    const failed = await createTenant(landlord.admin, other.name);
    const sick = await createTenant(landlord.admin, other.name);
    const { db } = landlord.node.services;
    await db.updateTable('tenants').set({ status: 'failure', failed_step: 'creation' }).where('id', '=', failed.id).execute();
    await db
      .insertInto('tenant_health')
      .values({
        tenant_id: sick.id,
        product_id: other.id,
        watched: true,
        state: 'unavailable',
        state_since: new Date(),
        next_probe_at: new Date(Date.now() + 86_400_000),
      })
      .execute();
    const page = await admin.get('/console');
    expect(page.text).toContain(`${failed.name}</a>: creation step failed`);
    expect(page.text).toContain(`/console/tenants/${sick.id}?tab=health`);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    const mine = await scoped.get('/console');
    expect(mine.status).toBe(200);
    expect(mine.text).not.toContain(failed.name);
    expect(mine.text).not.toContain(sick.id);
  });

  it('shows a tenant named like a script as text, in the list and on its page', async () => {
    const tenant = await createTenant(landlord.admin, product.name, { displayName: '<script>alert(1)</script>' });
    for (const path of [`/console/tenants?q=${tenant.name}`, `/console/tenants/${tenant.id}`]) {
      const page = await admin.get(path);
      expect(page.text, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.text, path).not.toContain('<script>alert(1)');
    }
  });

  it('filters tenants by product, plan, status and health', async () => {
    const price = await createPlanPrice(landlord.admin, product.name);
    const onPlan = await createTenant(landlord.admin, product.name, { plan: price.price });
    const offPlan = await createTenant(landlord.admin, product.name);
    const page = await admin.get(`/console/tenants?product=${product.name}&plan=${price.id}`);
    expect(page.text).toContain(`<option value="${price.id}" selected>`);
    expect(page.text).toContain(onPlan.id);
    expect(page.text).not.toContain(offPlan.id);
    expect((await admin.get(`/console/tenants?product=${product.name}&status=active`)).text).not.toContain(onPlan.id);
    expect((await admin.get(`/console/tenants?product=${product.name}&health=unavailable`)).text).not.toContain(onPlan.id);
    expect((await admin.get(`/console/tenants?product=${other.name}`)).text).not.toContain(onPlan.id);
  });

  it('answers htmx with the fragment only (search as you type)', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const page = await admin.browser.send('GET', `/console/tenants?q=${tenant.name}`, undefined, { 'hx-request': 'true' });
    expect(page.status).toBe(200);
    expect(page.text.startsWith('<div id="tenant-results">')).toBe(true);
    expect(page.text).toContain(tenant.name);
    // The back button: htmx restores history with the whole page.
    const restored = await admin.browser.send('GET', `/console/tenants?q=${tenant.name}`, undefined, {
      'hx-request': 'true',
      'hx-history-restore-request': 'true',
    });
    expect(restored.text.startsWith('<!doctype html>')).toBe(true);
  });

  it('serves htmx from node_modules with a long, immutable cache', async () => {
    const page = await new Browser(landlord.url).get(ASSETS.htmx.path);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(page.text).toContain('htmx');
  });

  it('gives a product-scoped operator 404 for another product’s tenant and 403 for system pages', async () => {
    const foreign = await createTenant(landlord.admin, other.name);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    expect((await scoped.get(`/console/tenants/${foreign.id}`)).status).toBe(404);
    expect((await scoped.get(`/console/products/${other.id}`)).status).toBe(404);
    const search = await scoped.get(`/console/tenants?q=${foreign.name}`);
    expect(search.text).not.toContain(foreign.id);
    expect(search.text).toContain('No tenants match.');
    const action = await scoped.post(`/console/tenants/${foreign.id}/actions/send_creation_request`);
    expect(action.status).toBe(404);
    expect(await statusOf(foreign.id)).toBe('record_created');
    expect((await scoped.get('/console/system')).status).toBe(403);
    expect((await scoped.get('/console/operators')).status).toBe(403);
  });
});

describe('webhook endpoints', () => {
  it('creates an endpoint (secret shown once), sends a test event to it alone, and disables it', async () => {
    const receiver = await startReceiver();
    const node = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
    try {
      const session = await signInToConsole(node.url, TEST_ADMIN_KEY);
      const bystander = await node.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/bystander` });
      expect(bystander.status).toBe(201);
      const created = await session.post('/console/webhooks', { url: `${receiver.url}/hook`, description: 'from the console' });
      expect(created.status).toBe(200);
      expect(created.text).toMatch(/whsec_/);
      const endpoint = (await node.admin.get('/v1/webhook-endpoints')).body.data.find((row: any) => row.url === `${receiver.url}/hook`);
      expect((await session.post(`/console/webhooks/${endpoint.id}/test`)).status).toBe(303);
      const [delivery] = await eventually(
        async () => (receiver.at('/hook').length ? receiver.at('/hook') : undefined),
        15_000,
        'the test event',
      );
      expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({ type: 'webhook_endpoint.test', data: { endpointId: endpoint.id } });
      expect(receiver.at('/bystander')).toHaveLength(0);
      expect((await session.post(`/console/webhooks/${endpoint.id}/disable`)).status).toBe(303);
      expect((await node.admin.get(`/v1/webhook-endpoints/${endpoint.id}`)).body.data.enabled).toBe(false);
      const page = await session.get(`/console/webhooks/${endpoint.id}`);
      expect(page.text).toContain('webhook_endpoint.test');
      expect(page.text).not.toMatch(/whsec_/);
    } finally {
      await node.close();
      await receiver.close();
    }
  });
});
