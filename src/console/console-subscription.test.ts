import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { ROSAAS, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { publishedPrice } from '../plan-changes/plan-changes.test-support.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// The subscription tab and its actions, through the real app, a real loopback backend and the services of /v1.
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
let admin: ConsoleSession;
let cheap: { id: string; name: string };
let dear: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { mode: 'callback', callbackTimeoutSeconds: 600 });
  cheap = await publishedPrice(landlord.admin, wired.product.name, 10_000);
  dear = await publishedPrice(landlord.admin, wired.product.name, 20_000);
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function subscribed(price = cheap) {
  const tenant = await createTenant(landlord.admin, wired.product.name);
  const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: price.name });
  expect(created.status, created.text).toBe(201);
  return tenant as { id: string; name: string };
}

const subscription = async (tenant: { name: string }) => (await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data;
const changeBox = (text: string) =>
  text.slice(text.indexOf('id="subscription-change"'), text.indexOf('</div>', text.indexOf('id="subscription-change"')));

describe('the subscription tab', () => {
  it('changes the plan through the proration preview, waits for the backend and shows its confirmation', async () => {
    const tenant = await subscribed();
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=subscription`);
    expect(tab.status).toBe(200);
    expect(tab.text).toContain(cheap.name);
    expect(tab.text).toContain('100.00 EUR');
    expect(tab.text).toContain(`value="${dear.name}"`);

    const preview = await admin.post(`/console/tenants/${tenant.id}/subscription/preview`, { price: dear.name });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.text).toContain('Proration');
    expect(preview.text).toMatch(/upgrade/);
    expect((await subscription(tenant)).priceId).toBe(cheap.id);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription/changes`)).body.data).toEqual([]);

    const asked = await admin.post(`/console/tenants/${tenant.id}/subscription/change`, { price: dear.name, timing: 'now' });
    expect(asked.status).toBe(303);
    await backend.waitFor((request) => request.path === `/api/integration/${tenant.name}/upgrade`);
    const waiting = await eventually(async () => {
      const page = await admin.get(`/console/tenants/${tenant.id}?tab=subscription`);
      return changeBox(page.text).includes('awaiting_report') ? page : undefined;
    });
    expect(changeBox(waiting.text)).toContain('hx-trigger="every 2s"');
    expect(changeBox(waiting.text)).toContain("Waiting for the backend's confirmation");
    const overview = await admin.get('/console');
    expect(overview.text).toMatch(new RegExp(`Plan changes waiting for a backend</h2><ul>.*${tenant.name}</a>: upgrade`, 's'));

    const report = await wired.backend.post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, { note: 'done' });
    expect(report.status, report.text).toBe(200);
    const applied = await admin.get(`/console/tenants/${tenant.id}?tab=subscription`);
    expect(changeBox(applied.text)).toContain('applied');
    expect(changeBox(applied.text)).not.toContain('hx-trigger');
    expect((await subscription(tenant)).priceId).toBe(dear.id);
    expect((await admin.get('/console')).text).not.toContain(`${tenant.name}</a>: upgrade`);
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'subscription.request_plan_change')
      .where('object_id', '=', (await subscription(tenant)).id)
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
  });

  it('cancels only with a confirmation naming the tenant, resumes, and refuses a form without its CSRF token', async () => {
    const tenant = await subscribed();
    const unconfirmed = await admin.post(`/console/tenants/${tenant.id}/subscription/cancel`, { confirm: 'someone-else' });
    expect(unconfirmed.status).toBe(422);
    expect((await subscription(tenant)).cancelAt).toBeNull();
    const forged = await admin.browser.send(
      'POST',
      `/console/tenants/${tenant.id}/subscription/cancel`,
      { confirm: tenant.name },
      { origin: new URL(landlord.url).origin },
    );
    expect(forged.status).toBe(403);
    expect((await subscription(tenant)).cancelAt).toBeNull();

    expect((await admin.post(`/console/tenants/${tenant.id}/subscription/cancel`, { confirm: tenant.name })).status).toBe(303);
    expect((await subscription(tenant)).cancelAt).not.toBeNull();
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=subscription`);
    expect(tab.text).toContain('Resume');
    expect((await admin.post(`/console/tenants/${tenant.id}/subscription/resume`)).status).toBe(303);
    expect((await subscription(tenant)).cancelAt).toBeNull();

    expect((await admin.post(`/console/tenants/${tenant.id}/subscription/reset`, {})).status).toBe(422);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription/changes`)).body.data).toEqual([]);
  });

  it('escapes plan names, says when there is no subscription, and is 404 to another product’s operator', async () => {
    const tenant = await subscribed();
    const plan = `p${Date.now()}`;
    await landlord.admin.post(`/v1/products/${wired.product.name}/plans`, { name: plan, displayName: '<script>alert(1)</script>' });
    await landlord.admin.post(`/v1/products/${wired.product.name}/plans/${plan}/prices`, {
      name: `${plan}-m`,
      cycle: 'month',
      amount: 5,
      currency: 'EUR',
    });
    await landlord.admin.post(`/v1/products/${wired.product.name}/plans/${plan}/publish`);
    await landlord.admin.post(`/v1/products/${wired.product.name}/plans/${plan}/prices/${plan}-m/publish`);
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=subscription`);
    expect(tab.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(tab.text).not.toContain('<script>alert(1)');

    const bare = await createTenant(landlord.admin, wired.product.name);
    expect((await admin.get(`/console/tenants/${bare.id}?tab=subscription`)).text).toContain('This tenant has no subscription.');

    const other = await createProduct(landlord.admin);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, other.name));
    expect((await scoped.get(`/console/tenants/${tenant.id}?tab=subscription`)).status).toBe(404);
    expect((await scoped.post(`/console/tenants/${tenant.id}/subscription/preview`, { price: dear.name })).status).toBe(404);
    expect((await scoped.post(`/console/tenants/${tenant.id}/subscription/change`, { price: dear.name })).status).toBe(404);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription/changes`)).body.data).toEqual([]);
  });
});

describe('the tenants list', () => {
  it('filters by plan and by subscription status (the tenant’s newest subscription)', async () => {
    const live = await subscribed(cheap);
    const ended = await subscribed(dear);
    expect((await admin.post(`/console/tenants/${ended.id}/subscription/cancel-now`, { confirm: ended.name })).status).toBe(303);
    expect((await subscription(ended)).status).toBe('canceled');
    const list = (query: string) => admin.get(`/console/tenants?product=${wired.product.name}&${query}`);
    const canceled = await list('subscription=canceled');
    expect(canceled.text).toContain(ended.name);
    expect(canceled.text).not.toContain(live.name);
    const active = await list('subscription=active');
    expect(active.text).toContain(live.name);
    expect(active.text).not.toContain(ended.name);
    const onCheap = await list(`plan=${cheap.id}`);
    expect(onCheap.text).toContain(live.name);
    expect(onCheap.text).not.toContain(ended.name);
    expect((await list('subscription=bogus')).status).toBe(200);
  });
});
