import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleLinkCommand } from '../../src/console/console-link.command.ts';
import { createGroup, createMarketplace, documentMarketplace } from '../../src/marketplaces/marketplaces.test-support.ts';
import { type PeopleProduct, peopleProduct } from '../../src/people/people.test-support.ts';
import { type BackendSimulator, startBackendSimulator } from '../helpers/backend-simulator.ts';
import { chromiumAvailable, launchChromium, screenshot, seriousViolations } from '../helpers/chromium.ts';
import { uniqueName } from '../helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../helpers/landlord.ts';

// A product's page in Debian's Chromium: its settings as a form (the API's problems beside the fields) and its marketplaces.
const run = chromiumAvailable();
const CLI = { type: 'admin_key' as const, id: 'cli', requestId: null };

let browser: Browser;
let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
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

describe.runIf(run)('a product’s page in Chromium', () => {
  beforeAll(async () => {
    browser = await launchChromium();
    landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
    backend = await startBackendSimulator();
    product = await peopleProduct(landlord, backend.url);
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

  it('edits the settings: a refused value is shown beside its field with nothing saved, then a good one is saved', async () => {
    const page = await signIn();
    await page.goto(`${landlord.url}/console/products/${product.id}`);
    const interval = page.getByLabel('Probe every (seconds)');
    await expect(interval.inputValue()).resolves.toBe('60');
    await interval.fill('often');
    await page.getByLabel('Display name').fill('Renamed in Chromium');
    await page.getByRole('button', { name: 'Save settings' }).click();

    await page.getByRole('alert').getByText('Nothing was saved').waitFor();
    await expect(page.getByLabel('Probe every (seconds)').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.locator('#settings-healthCheck-intervalSeconds-problem', { hasText: 'must be integer' }).waitFor();
    // What was typed is still there, to correct.
    await expect(page.getByLabel('Display name').inputValue()).resolves.toBe('Renamed in Chromium');
    expect((await landlord.admin.get(`/v1/products/${product.name}`)).body.data.displayName).toBe('People product');
    const refused = await seriousViolations(page);

    await page.getByLabel('Probe every (seconds)').fill('120');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    await expect(page.getByLabel('Probe every (seconds)').inputValue()).resolves.toBe('120');
    const view = (await landlord.admin.get(`/v1/products/${product.name}`)).body.data;
    expect(view).toMatchObject({ displayName: 'Renamed in Chromium', healthCheck: { intervalSeconds: 120 } });
    expect(refused).toEqual([]);
  });

  it('creates a marketplace from the form, shows its credentials once, and lists it', async () => {
    const page = await signIn();
    const environment = uniqueName('env');
    await page.goto(`${landlord.url}/console/products/${product.id}`);
    await page.getByText('Add a marketplace').click();
    const form = page.locator('#marketplace-form');
    const body = documentMarketplace(backend.url, 'telco-chromium', environment);
    await form.getByLabel('Name (maestrano, some-telco)').fill(body.marketplace);
    await form.getByLabel('The app’s NID on it').fill(body.nid);
    await form.getByLabel(/^Environment/).fill(environment);
    await form.getByLabel('App host (notices go to it)').fill(body.app.host);
    await form.getByLabel('SSO init path').fill(body.sso.init_path);
    await form.getByLabel('SSO consume path').fill(body.sso.consume_path);
    await form.getByLabel('Group notice path (:id)').fill(body.webhooks.account.group_path);
    await form.getByLabel('Member notice path (:group_id, :id)').fill(body.webhooks.account.group_user_path);
    await form.getByRole('button', { name: 'Create the marketplace' }).click();

    await page.getByRole('heading', { name: 'Marketplace telco-chromium created' }).waitFor();
    const apiKey = await page.locator('dt:has-text("API key") + dd').textContent();
    expect(apiKey).toMatch(/^[0-9a-f]{64}$/);
    const created = await seriousViolations(page);
    await page.getByRole('link', { name: 'Back to the product' }).click();
    const row = page.getByRole('row', { name: /telco-chromium/ });
    await row.getByText(environment).waitFor();
    expect(await page.content()).not.toContain(apiKey as string);
    expect(created).toEqual([]);
  });

  it('has no serious accessibility violations on a product page with marketplaces, nor on a group’s tenant page', async () => {
    const marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'axe-mp', uniqueName('env')));
    const group = await createGroup(landlord, marketplace.id);
    const page = await signIn();
    const found: Record<string, unknown> = {};
    for (const path of [`/console/products/${product.id}`, `/console/tenants/${group.tenant.id}`]) {
      await page.goto(`${landlord.url}${path}`);
      const violations = await seriousViolations(page);
      if (violations.length) found[path] = violations;
    }
    // The marketplace form opened, refused: every problem beside its field.
    await page.goto(`${landlord.url}/console/products/${product.id}`);
    await page.getByText('Add a marketplace').click();
    await page.locator('#marketplace-form').getByRole('button', { name: 'Create the marketplace' }).click();
    await page.getByRole('alert').getByText('Nothing was saved').waitFor();
    const refused = await seriousViolations(page);
    if (refused.length) found.refusedMarketplace = refused;
    await page.goto(`${landlord.url}/console/tenants/${group.tenant.id}`);
    await page.getByRole('link', { name: 'axe-mp' }).waitFor();
    expect(found).toEqual({});
  });
});
