import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleLinkCommand } from '../../src/console/console-link.command.ts';
import { manualClock } from '../../src/platform/clock.ts';
import { type BackendSimulator, eventually, startBackendSimulator } from '../helpers/backend-simulator.ts';
import { chromiumAvailable, launchChromium, screenshot, seriousViolations } from '../helpers/chromium.ts';
import { createProduct, createTenant, uniqueName } from '../helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../helpers/landlord.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { ROSAAS, tenantOf, type WiredProduct, wireProduct } from '../helpers/rosaas.ts';

// The browser suite: Debian's Chromium driven by playwright-core through the real console.
const run = chromiumAvailable();
const CLI = { type: 'admin_key' as const, id: 'cli', requestId: null };

let browser: Browser;
const pages: Page[] = [];
// Any Content-Security-Policy violation in any page fails the test that caused it.
const cspViolations: string[] = [];

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) cspViolations.push(message.text());
  });
  pages.push(page);
  return page;
}

/** Opens a one-time console link in a fresh browser context and presses its button. */
async function signInWithLink(landlord: TestLandlord): Promise<Page> {
  const { db, config } = landlord.node.services;
  const printed = await consoleLinkCommand(db, { ...config, publicUrl: landlord.url }, landlord.node.services.clock, CLI, []);
  const link = /(http\S+\/console\/link\/\S+)/.exec(printed)?.[1];
  if (!link) throw new Error(`no link in ${printed}`);
  const page = await newPage(await browser.newContext());
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return page;
}

describe.runIf(run)('the console in Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium();
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
  });

  describe('a tenant’s lifecycle from the console', () => {
    let landlord: TestLandlord;
    let backend: BackendSimulator;
    let wired: WiredProduct;
    const deactivationReported = Promise.withResolvers<void>();

    beforeAll(async () => {
      landlord = await startTestLandlord();
      backend = await startBackendSimulator();
      wired = await wireProduct(landlord, backend, { autoSendCreation: true });
      // A real backend on loopback: it answers at once and reports the outcome afterwards — a
      // deactivation only once the test has seen the console waiting for it.
      const outcomes: Record<string, string> = { creation: 'created', deactivation: 'inactive', activation: 'active' };
      backend.behave((request) => {
        const event = request.path.split('/')[4] ?? '';
        const outcome = outcomes[event];
        return {
          status: 200,
          after: async () => {
            if (!outcome) return;
            if (event === 'deactivation') await deactivationReported.promise;
            await wired.backend.post(`${ROSAAS}/tenants/${tenantOf(request.path)}/${outcome}`, {});
          },
        };
      });
    });
    afterAll(async () => {
      await landlord?.close();
      await backend?.close();
    });

    it('signs in with a console link, finds a tenant, deactivates it and watches the call and the report arrive', async () => {
      const name = uniqueName('browser');
      await createTenant(landlord.admin, wired.product.name, { name, displayName: 'Browser tenant' });
      await eventually(
        async () => ((await landlord.admin.get(`/v1/tenants/${name}`)).body.data.status === 'created_as_active' ? true : undefined),
        20_000,
      );

      const page = await signInWithLink(landlord);
      await page.getByRole('link', { name: 'Tenants' }).click();
      await page.getByLabel('Name starts with').fill(name.slice(0, name.length - 1));
      // htmx replaces the results as you type, without a page load.
      await page.locator('#tenant-results').getByRole('link', { name }).click();
      await page.getByRole('heading', { name: /Browser tenant/ }).waitFor();

      await page.getByRole('button', { name: 'Deactivate' }).click();
      await page.getByText('Waiting for the backend').waitFor();
      await page.locator('#tenant-live .badge', { hasText: /^(sending_deactivation_request|deactivating)$/ }).waitFor();
      deactivationReported.resolve();
      // The page polls itself until the backend's report settles the tenant.
      const live = page.locator('#tenant-live');
      await live.locator('.badge', { hasText: /^inactive$/ }).waitFor({ timeout: 30_000 });
      await expect(live.getByText('Waiting for the backend').count()).resolves.toBe(0);
      const timeline = live.locator('section[aria-label="Timeline"]');
      await timeline
        .locator('.badge', { hasText: /^call$/ })
        .first()
        .waitFor();
      await timeline
        .locator('.badge', { hasText: /^report$/ })
        .first()
        .waitFor();
      await expect(timeline.getByText(/deactivation → HTTP 200/).count()).resolves.toBeGreaterThan(0);
      expect((await landlord.admin.get(`/v1/tenants/${name}`)).body.data.status).toBe('inactive');
    });

    it('has no serious accessibility violations on any page', async () => {
      const tenant = await createTenant(landlord.admin, wired.product.name);
      // Live, so that the health tab has its controls too.
      await eventually(
        async () => ((await landlord.admin.get(`/v1/tenants/${tenant.id}`)).body.data.status === 'created_as_active' ? true : undefined),
        20_000,
      );
      const page = await signInWithLink(landlord);
      const paths = [
        '/console',
        '/console/products',
        `/console/products/${wired.product.id}`,
        '/console/tenants',
        ...['timeline', 'health', 'people', 'connections', 'metadata', 'audit'].map((tab) => `/console/tenants/${tenant.id}?tab=${tab}`),
        '/console/events',
        '/console/events/catalogue',
        '/console/webhooks',
        '/console/audit',
        '/console/operators',
        '/console/system',
      ];
      const found: Record<string, unknown> = {};
      // Before signing in: the sign-in page and a console link's page.
      const visitor = await newPage(await browser.newContext());
      for (const path of ['/console/signin', '/console/link/llcl_unknown']) {
        await visitor.goto(`${landlord.url}${path}`);
        const violations = await seriousViolations(visitor);
        if (violations.length) found[path] = violations;
      }
      for (const path of paths) {
        await page.goto(`${landlord.url}${path}`);
        const violations = await seriousViolations(page);
        if (violations.length) found[path] = violations;
      }
      expect(found).toEqual({});
    });

    it('is usable with the keyboard: the skip link first, then straight into the page', async () => {
      const page = await signInWithLink(landlord);
      await page.keyboard.press('Tab');
      await expect(page.evaluate('document.activeElement.textContent')).resolves.toBe('Skip to content');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      await expect(page.evaluate("document.activeElement.closest('main') !== null")).resolves.toBe(true);
    });
  });

  describe('webhook deliveries from the console', () => {
    const clock = manualClock(new Date());
    let landlord: TestLandlord;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;

    beforeAll(async () => {
      landlord = await startTestLandlord({ clock, env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
      receiver = await startReceiver();
    });
    afterAll(async () => {
      await landlord?.close();
      await receiver?.close();
    });

    it('replays a delivery that gave up, and shows it delivered', async () => {
      const product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
      const created = await landlord.admin.post('/v1/webhook-endpoints', {
        url: `${receiver.url}/hook`,
        product: product.name,
        eventTypes: ['tenant.*'],
      });
      const endpointId = created.body.data.id as string;
      receiver.answer(() => ({ status: 503 }));
      await createTenant(landlord.admin, product.name);
      // Walk the clock through the retry schedule: 8 attempts, then the delivery gives up.
      const attempts = async () =>
        (await landlord.admin.get(`/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data.reduce(
          (sum: number, row: any) => sum + row.attempts,
          0,
        );
      for (let attempt = 1; attempt < 8; attempt++) {
        await eventually(async () => ((await attempts()) >= attempt ? true : undefined), 15_000, `attempt ${attempt}`);
        clock.advance(12 * 3600_000);
      }
      await eventually(
        async () => {
          const page = await landlord.admin.get(`/v1/webhook-endpoints/${endpointId}/deliveries?status=failed`);
          return page.body.data.length === 1 ? true : undefined;
        },
        15_000,
        'a failed delivery',
      );
      receiver.answer(() => ({ status: 200 }));

      const page = await signInWithLink(landlord);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('link', { name: `${receiver.url}/hook` }).click();
      const deliveries = page.locator('#deliveries');
      await deliveries.locator('.badge', { hasText: /^failed$/ }).waitFor();
      await page.getByRole('button', { name: /Replay failed deliveries/ }).click();
      await page.getByText('Failed deliveries queued again.').waitFor();
      // Pending deliveries make the list poll itself until they settle.
      await deliveries.locator('.badge', { hasText: /^delivered$/ }).waitFor({ timeout: 20_000 });
      expect(receiver.at('/hook').at(-1)).toBeDefined();
      await deliveries.getByRole('link', { name: 'tenant.created' }).click();
      await expect(page.locator('table tbody tr').count()).resolves.toBe(9);
      // The delivery, its endpoint and its event pass the accessibility check too.
      const found: Record<string, unknown> = {};
      const deliveryUrl = page.url();
      for (const url of [deliveryUrl, `${landlord.url}/console/webhooks/${endpointId}`]) {
        await page.goto(url);
        const violations = await seriousViolations(page);
        if (violations.length) found[url] = violations;
      }
      await page.goto(deliveryUrl);
      await page.getByRole('link', { name: 'The event' }).click();
      await page.getByRole('heading', { name: 'tenant.created' }).waitFor();
      const eventViolations = await seriousViolations(page);
      if (eventViolations.length) found[page.url()] = eventViolations;
      expect(found).toEqual({});
    });
  });
});
