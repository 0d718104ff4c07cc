import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleLinkCommand } from '../../src/console/console-link.command.ts';
import { publishedPrice } from '../../src/plan-changes/plan-changes.test-support.ts';
import { type BackendSimulator, startBackendSimulator } from '../helpers/backend-simulator.ts';
import { chromiumAvailable, launchChromium, screenshot, seriousViolations } from '../helpers/chromium.ts';
import { createTenant } from '../helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../helpers/landlord.ts';
import { ROSAAS, type WiredProduct, wireProduct } from '../helpers/rosaas.ts';

// Subscriptions, bills and invoices in Debian's Chromium through the real console, with a real loopback backend.
const run = chromiumAvailable();
const CLI = { type: 'admin_key' as const, id: 'cli', requestId: null };

let browser: Browser;
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
let cheap: { id: string; name: string };
let dear: { id: string; name: string };
const pages: Page[] = [];
const cspViolations: string[] = [];

/** Opens a one-time console link in a fresh browser context and signs in. */
async function signIn(): Promise<Page> {
  const { db, config, clock } = landlord.node.services;
  const printed = await consoleLinkCommand(db, { ...config, publicUrl: landlord.url }, clock, CLI, []);
  const link = /(http\S+\/console\/link\/\S+)/.exec(printed)?.[1];
  if (!link) throw new Error(`no link in ${printed}`);
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) cspViolations.push(message.text());
  });
  pages.push(page);
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return page;
}

async function subscribedTenant(): Promise<{ id: string; name: string }> {
  const tenant = await createTenant(landlord.admin, wired.product.name);
  const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: cheap.name });
  if (created.status !== 201) throw new Error(`subscription: ${created.status} ${created.text}`);
  return tenant;
}

describe.runIf(run)('subscriptions and bills in Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium();
    landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
    backend = await startBackendSimulator();
    // The backend answers every call at once; the upgrade's outcome it reports later, when the test says so.
    wired = await wireProduct(landlord, backend, { mode: 'callback', callbackTimeoutSeconds: 600 });
    cheap = await publishedPrice(landlord.admin, wired.product.name, 10_000);
    dear = await publishedPrice(landlord.admin, wired.product.name, 20_000);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      for (const page of pages) await screenshot(page, `${context.task.name}-${pages.indexOf(page)}`).catch(() => {});
    }
    for (const page of pages.splice(0)) await page.context().close();
    expect(cspViolations.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await landlord?.close();
    await backend?.close();
  });

  it("changes a tenant's plan through the preview; the change waits for, then shows, the backend's confirmation", async () => {
    const tenant = await subscribedTenant();
    const page = await signIn();
    await page.goto(`${landlord.url}/console/tenants/${tenant.id}?tab=subscription`);
    await page.getByLabel('New price').selectOption(dear.name);
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByRole('heading', { name: `Change ${tenant.name}'s plan` }).waitFor();
    await page.getByRole('table', { name: 'Proration' }).waitFor();
    await page.getByRole('button', { name: 'Ask the backend for this change' }).click();

    const change = page.locator('#subscription-change');
    await change.getByText("Waiting for the backend's confirmation").waitFor();
    await change.locator('.badge', { hasText: /^awaiting_report$/ }).waitFor();
    await backend.waitFor((request) => request.path === `/api/integration/${tenant.name}/upgrade`);
    const report = await wired.backend.post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, { note: 'done' });
    expect(report.status, report.text).toBe(200);
    // The box polls itself until the change settles, then stops.
    await change.locator('.badge', { hasText: /^applied$/ }).waitFor({ timeout: 30_000 });
    await expect(change.getByText("Waiting for the backend's confirmation").count()).resolves.toBe(0);
    await expect(page.locator('#subscription-change[hx-trigger]').count()).resolves.toBe(0);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data.priceId).toBe(dear.id);
  });

  it('creates a recurring bill and shows its schedule in words', async () => {
    const tenant = await subscribedTenant();
    const page = await signIn();
    await page.goto(`${landlord.url}/console/tenants/${tenant.id}?tab=billing`);
    await page.locator('#rb-description').fill('Support contract');
    await page.locator('#rb-price').fill('12000');
    await page.locator('#rb-period').selectOption('month');
    await page.locator('#rb-frequency').fill('12');
    await page.locator('#rb-cycles').fill('3');
    await page.locator('#rb-start').fill('2027-01-31');
    await page.getByRole('button', { name: 'Add the recurring bill' }).click();
    await page.getByText('Created.').waitFor();
    await page.getByText('every 12 months, 3 times, next 2027-01-31').waitFor();
    const stored = (await landlord.admin.get(`/v1/tenants/${tenant.name}/recurring-bills`)).body.data;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ description: 'Support contract', priceCents: 12000, frequency: 12, cycles: 3 });
  });

  it('has no serious accessibility violations on the new pages', async () => {
    const tenant = await subscribedTenant();
    const invoice = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data[0];
    const page = await signIn();
    const found: Record<string, unknown> = {};
    const paths = [
      '/console',
      ...['subscription', 'usage', 'billing'].map((tab) => `/console/tenants/${tenant.id}?tab=${tab}`),
      '/console/invoices',
      ...(invoice ? [`/console/invoices/${invoice.id}`] : []),
    ];
    for (const path of paths) {
      await page.goto(`${landlord.url}${path}`);
      const violations = await seriousViolations(page);
      if (violations.length) found[path] = violations;
    }
    // The proration preview is a page of its own.
    await page.goto(`${landlord.url}/console/tenants/${tenant.id}?tab=subscription`);
    await page.getByLabel('New price').selectOption(dear.name);
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByRole('table', { name: 'Proration' }).waitFor();
    const preview = await seriousViolations(page);
    if (preview.length) found.preview = preview;
    expect(found).toEqual({});
    expect(invoice).toBeDefined();
  });
});
