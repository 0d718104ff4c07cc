import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { subscribedTenant, type UsageProduct, usageEvent, usageProduct } from '../usage/usage.test-support.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// The usage tab and the invoices-and-bills tab, through the real app and the services of /v1.
let landlord: TestLandlord;
let product: UsageProduct;
let admin: ConsoleSession;

beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await usageProduct(landlord, { seats: { limit: 10, thresholds: [50, 100] }, sso: { type: 'boolean' } });
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
});

const recurringBills = async (tenant: { name: string }) =>
  (await landlord.admin.get(`/v1/tenants/${tenant.name}/recurring-bills`)).body.data as Record<string, unknown>[];

describe('the usage tab', () => {
  it('draws a bar per feature: used of limit, its thresholds; a tenant without a subscription has none', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const sent = await product.client.post('/v1/usage', {
      events: [usageEvent(tenant.name, 'seats', 6, landlord.node.services.clock.now())],
    });
    expect(sent.status, sent.text).toBe(200);
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=usage`);
    expect(tab.status).toBe(200);
    expect(tab.text).toContain('aria-label="seats: 6 of 10"');
    expect(tab.text).toContain('6 of 10 (soft limit)');
    expect(tab.text).toContain('50 %, 100 %');
    expect(tab.text).toMatch(/sso<\/td><td><span class="badge good">included/);
    const bare = await subscribedTenant(landlord, product, { subscribe: false });
    expect((await admin.get(`/console/tenants/${bare.id}?tab=usage`)).text).toContain('No live subscription');
  });
});

describe('the invoices-and-bills tab', () => {
  it('creates a bill and a recurring bill whose schedule reads in words', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const bill = await admin.post(`/console/tenants/${tenant.id}/bills`, { description: 'Set-up <b>work</b>', priceCents: '2500' });
    expect(bill.status, bill.text).toBe(303);
    const recurring = await admin.post(`/console/tenants/${tenant.id}/recurring-bills`, {
      description: 'Support contract',
      priceCents: '12000',
      period: 'month',
      frequency: '12',
      cycles: '3',
      startDate: '2027-01-31',
    });
    expect(recurring.status, recurring.text).toBe(303);
    const [created] = await recurringBills(tenant);
    expect(created).toMatchObject({ period: 'month', frequency: 12, cycles: 3, priceCents: 12000 });
    const tab = await admin.get(`/console/tenants/${tenant.id}?tab=billing`);
    expect(tab.status).toBe(200);
    expect(tab.text).toContain('every 12 months, 3 times, next 2027-01-31');
    expect(tab.text).toContain('Set-up &lt;b&gt;work&lt;/b&gt;');
    expect(tab.text).toContain('25.00 EUR');
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'recurring_bill.created')
      .where('object_id', '=', created?.id as string)
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
  });

  it('pages the bills newest first, 20 at a time, each bill once; a cursor it did not hand out is a 400', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const descriptions = Array.from({ length: 23 }, (_, index) => `bill-${String(index + 1).padStart(2, '0')}`);
    for (const description of descriptions) {
      const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/bills`, { description, priceCents: 100 });
      expect(created.status, created.text).toBe(201);
    }
    // The bills a page shows, in the order it shows them.
    const shownOn = (text: string) => [...text.matchAll(/<td>(bill-\d\d)<\/td>/g)].map((match) => match[1]);
    const first = await admin.get(`/console/tenants/${tenant.id}?tab=billing`);
    expect(first.status).toBe(200);
    expect(shownOn(first.text)).toEqual(descriptions.slice(3).reverse());
    expect(first.text).not.toContain('Older recurring bills');
    const next = /<a rel="next" href="([^"]+)">Older bills<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toMatch(new RegExp(`^/console/tenants/${tenant.id}\\?tab=billing&cursor=`));
    const second = await admin.get(next as string);
    expect(second.status).toBe(200);
    expect(shownOn(second.text)).toEqual(['bill-03', 'bill-02', 'bill-01']);
    expect(second.text).not.toContain('Older bills');
    const garbled = await admin.get(`/console/tenants/${tenant.id}?tab=billing&cursor=bm90LWFuLWlk`);
    expect(garbled.status).toBe(400);
  });

  it('refuses bad input naming the field, a form without its CSRF token, and another product’s operator; writes nothing', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const path = `/console/tenants/${tenant.id}/recurring-bills`;
    const good = { description: 'x', priceCents: '100', period: 'month' };
    for (const [field, value] of [
      ['priceCents', '-1'],
      ['priceCents', 'lots'],
      ['period', 'fortnight'],
      ['frequency', '13'],
      ['startDate', 'tomorrow'],
      ['description', ''],
    ] as const) {
      const refused = await admin.post(path, { ...good, [field]: value });
      expect(refused.status, `${field}=${value}`).toBeGreaterThanOrEqual(400);
      expect(refused.status, `${field}=${value}`).toBeLessThan(500);
      expect(refused.text, `${field}=${value}`).toContain(field === 'description' ? 'description' : field);
    }
    const forged = await admin.browser.send('POST', path, good, { origin: new URL(landlord.url).origin });
    expect(forged.status).toBe(403);
    const other = await createProduct(landlord.admin);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, other.name));
    expect((await scoped.get(`/console/tenants/${tenant.id}?tab=billing`)).status).toBe(404);
    expect((await scoped.get(`/console/tenants/${tenant.id}?tab=usage`)).status).toBe(404);
    expect((await scoped.post(path, good)).status).toBe(404);
    expect((await scoped.post(`/console/tenants/${tenant.id}/bills`, { description: 'x', priceCents: '1' })).status).toBe(404);
    expect(await recurringBills(tenant)).toEqual([]);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/bills`)).body.data).toEqual([]);
  });
});
