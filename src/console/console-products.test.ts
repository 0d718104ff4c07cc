import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { createGroup, createMarketplace, documentMarketplace } from '../marketplaces/marketplaces.test-support.ts';
import { type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// A product's page: its marketplaces (list, create with credentials shown once) and its settings as a form,
// through the real app and the services of /v1.
let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let admin: ConsoleSession;

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** The create form's fields for a marketplace shaped as the Maestrano document's. */
function marketplaceForm(name: string, environment: string): Record<string, string> {
  const body = documentMarketplace(backend.url, name, environment);
  return {
    marketplace: body.marketplace,
    nid: body.nid,
    environment: body.environment,
    'app.host': body.app.host,
    'sso.init_path': body.sso.init_path,
    'sso.consume_path': body.sso.consume_path,
    'webhooks.account.group_path': body.webhooks.account.group_path,
    'webhooks.account.group_user_path': body.webhooks.account.group_user_path,
  };
}

const marketplacesOf = async (productName: string) =>
  (await landlord.admin.get(`/v1/products/${productName}/marketplaces`)).body.data as { id: string; marketplace: string }[];

/** The <input> of a field, and the problem text next to it (if any). */
function fieldOf(text: string, id: string): { input: string; problem: string | undefined } {
  const input = new RegExp(`<(?:input|select) id="${id}"[^>]*>`).exec(text)?.[0] ?? '';
  const problem = new RegExp(`<p class="field-problem" id="${id}-problem">([^<]*)</p>`).exec(text)?.[1];
  return { input, problem: problem === undefined ? undefined : decoded(problem) };
}

/** Text of an attribute or element as the browser reads it. */
const decoded = (value: string) =>
  value.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** What a browser would send for a form of the page as drawn: each input's value, each select's chosen option. */
function formValues(text: string, form: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [tag, name] of text.matchAll(new RegExp(`<input id="${form}-[^"]*" name="([^"]+)"[^>]*>`, 'g'))) {
    values[name as string] = decoded(/ value="([^"]*)"/.exec(tag)?.[1] ?? '');
  }
  for (const [, name, options] of text.matchAll(new RegExp(`<select id="${form}-[^"]*" name="([^"]+)"[^>]*>(.*?)</select>`, 'gs'))) {
    values[name as string] = decoded(/<option value="([^"]*)" selected>/.exec(options as string)?.[1] ?? '');
  }
  return values;
}

describe('marketplaces', () => {
  it('creates one from the form, shows its API key and the new environment’s secret once, and lists it', async () => {
    const environment = uniqueName('env');
    const created = await admin.post(`/console/products/${product.id}/marketplaces`, {
      ...marketplaceForm('maestrano', environment),
      nid: '<script>nid</script>',
      'roles.Power User': 'admin',
    });
    expect(created.status, created.text).toBe(200);
    const apiKey = /<dt>API key<\/dt><dd class="mono">([0-9a-f]{64})<\/dd>/.exec(created.text)?.[1];
    const secret = /<dt>Secret<\/dt><dd class="mono">([0-9a-f]{48})<\/dd>/.exec(created.text)?.[1];
    expect(apiKey).toBeDefined();
    expect(secret).toBeDefined();
    const [row] = await marketplacesOf(product.name);
    expect(row).toMatchObject({ marketplace: 'maestrano', nid: '<script>nid</script>', environment, roles: { 'Power User': 'admin' } });

    const page = await admin.get(`/console/products/${product.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="marketplaces-title">Marketplaces</h2>');
    expect(page.text).toContain('&lt;script&gt;nid&lt;/script&gt;');
    expect(page.text).not.toContain('<script>nid');
    expect(page.text).toContain(`<td class="mono">${environment}</td>`);
    expect(page.text).toContain(`<td class="mono">${backend.url}</td>`);
    expect(page.text).toContain('/maestrano/account/groups/:id/maestrano-dev');
    expect(page.text).not.toContain(apiKey);
    expect(page.text).not.toContain(secret);

    // A second marketplace of the same environment: its own key, the environment's credentials are not shown again.
    const second = await admin.post(`/console/products/${product.id}/marketplaces`, marketplaceForm('some-telco', environment));
    expect(second.status, second.text).toBe(200);
    expect(second.text).toContain('existed already');
    expect(second.text).not.toContain('<dt>Secret</dt>');

    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'marketplace.create')
      .where('object_id', '=', row?.id as string)
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
  });

  it('draws a refused form again with the API’s problems beside the fields, and creates nothing', async () => {
    const before = await marketplacesOf(product.name);
    const path = `/console/products/${product.id}/marketplaces`;
    const refused = await admin.post(path, { ...marketplaceForm('telco-x', 'env-x'), 'sso.init_path': 'no-slash', 'app.host': '' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('role="alert"');
    const initPath = fieldOf(refused.text, 'marketplace-sso-init-path');
    expect(initPath.input).toContain('aria-invalid="true"');
    expect(initPath.input).toContain('value="no-slash"');
    expect(initPath.problem).toContain('sso.init_path');
    expect(fieldOf(refused.text, 'marketplace-app-host').problem).toContain('app.host');
    expect(fieldOf(refused.text, 'marketplace-nid').input).not.toContain('aria-invalid');

    const unknownRole = await admin.post(path, { ...marketplaceForm('telco-y', 'env-y'), 'roles.Admin': 'wizard' });
    expect(unknownRole.status).toBe(400);
    expect(fieldOf(unknownRole.text, 'marketplace-roles-Admin').problem).toBe('The product has no role "wizard"');

    const taken = await admin.post(path, marketplaceForm('maestrano', 'env-z'));
    expect(taken.status).toBe(409);
    expect(fieldOf(taken.text, 'marketplace-marketplace').problem).toContain('has a marketplace "maestrano" already');
    expect(await marketplacesOf(product.name)).toEqual(before);
  });

  it('refuses a form without the CSRF token or from another origin', async () => {
    const path = `/console/products/${product.id}/marketplaces`;
    const form = marketplaceForm('telco-csrf', 'env-csrf');
    expect((await admin.browser.send('POST', path, form, { origin: new URL(landlord.url).origin })).status).toBe(403);
    expect((await admin.post(path, form, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await marketplacesOf(product.name)).map((row) => row.marketplace)).not.toContain('telco-csrf');
  });

  it('hides another product’s marketplaces from a product-scoped operator (404), and shows its own', async () => {
    const foreign = await createMarketplace(landlord, other.name, documentMarketplace(backend.url, 'foreign-mp', uniqueName('env')));
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    expect((await scoped.get(`/console/products/${other.id}`)).status).toBe(404);
    const post = await scoped.post(`/console/products/${other.id}/marketplaces`, marketplaceForm('sneaky', 'env-s'));
    expect(post.status).toBe(404);
    expect((await marketplacesOf(other.name)).map((row) => row.marketplace)).toEqual(['foreign-mp']);
    const own = await scoped.get(`/console/products/${product.id}`);
    expect(own.status).toBe(200);
    expect(own.text).toContain('<td>maestrano</td>');
    expect(own.text).not.toContain(foreign.apiId);
  });

  it('shows the marketplace of a tenant that is one of its groups', async () => {
    const marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'group-mp', uniqueName('env')));
    const group = await createGroup(landlord, marketplace.id, { name: 'Group <b>one</b>' });
    const page = await admin.get(`/console/tenants/${group.tenant.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      `<dt>Marketplace</dt><dd>group <span class="mono">${group.uid}</span> of <a href="/console/products/${product.id}#marketplace-${marketplace.id}">group-mp</a>`,
    );
    expect(page.text).toContain('Group &lt;b&gt;one&lt;/b&gt;');
  });
});

describe('sign-in', () => {
  it('shows the product’s OIDC clients and SAML providers with the addresses and fingerprints to configure, escaped, its own only', async () => {
    const product = await peopleProduct(landlord, backend.url);
    const section = async () => {
      const page = await admin.get(`/console/products/${product.id}`);
      expect(page.status).toBe(200);
      return /<section id="sign-in"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
    };
    const before = await section();
    expect(before).toContain(`No OIDC clients. Register one with POST /v1/products/${product.name}/oidc-clients.`);
    expect(before).toContain('No signing certificate yet');
    expect(before).toContain(`${landlord.url}/saml/${product.name}/metadata`);

    const client = await product.client.post(`/v1/products/${product.name}/oidc-clients`, {
      name: 'Web <b>app</b>',
      type: 'confidential',
      redirectUris: ['https://app.example/callback'],
      idTokenSigningAlg: 'ES256',
    });
    expect(client.status, client.text).toBe(201);
    const provider = await product.client.post(`/v1/products/${product.name}/saml-providers`, {
      entityId: 'https://sp.example/metadata',
      acsUrl: 'https://sp.example/acs',
    });
    expect(provider.status, provider.text).toBe(201);
    const certificates = await product.client.get(`/v1/products/${product.name}/saml-certificates`);
    expect(certificates.status).toBe(200);
    const foreign = await other.client.post(`/v1/products/${other.name}/oidc-clients`, {
      name: 'Foreign RP',
      type: 'public',
      redirectUris: ['https://foreign.example/callback'],
    });
    expect(foreign.status).toBe(201);

    const after = await section();
    expect(after).toContain('Web &lt;b&gt;app&lt;/b&gt;');
    expect(after).not.toContain('<b>');
    expect(after).toContain(`<td class="mono">${client.body.data.clientId}</td><td>confidential</td><td class="mono">ES256</td>`);
    expect(after).toContain('https://app.example/callback');
    expect(after).toContain(
      '<td class="mono">https://sp.example/metadata</td><td class="mono">https://sp.example/acs</td><td>persistent</td>',
    );
    const [signing] = certificates.body.data as { sha1Fingerprint: string; sha256Fingerprint: string }[];
    expect(after).toContain(signing?.sha1Fingerprint);
    expect(after).toContain(signing?.sha256Fingerprint);
    expect(after).not.toContain(foreign.body.data.clientId);
    expect(after).not.toContain(client.body.data.clientSecret);
  });
});

describe('resellers', () => {
  it('lists only the product’s own resellers, escaped, 50 a page', async () => {
    const product = await peopleProduct(landlord, backend.url);
    for (let index = 1; index <= 51; index++) {
      const created = await landlord.admin.post('/v1/resellers', {
        code: uniqueName('rs'),
        name: `Reseller <b>${String(index).padStart(2, '0')}</b>`,
        product: product.name,
      });
      expect(created.status, created.text).toBe(201);
    }
    const foreign = await landlord.admin.post('/v1/resellers', { code: uniqueName('rs'), name: 'Foreign reseller', product: other.name });
    expect(foreign.status).toBe(201);
    const shown = (text: string) => [...text.matchAll(/<td>Reseller &lt;b&gt;(\d\d)&lt;\/b&gt;<\/td>/g)].map((match) => match[1]);
    const first = await admin.get(`/console/products/${product.id}`);
    expect(shown(first.text)).toHaveLength(50);
    expect(first.text).not.toContain('<b>');
    expect(first.text).not.toContain('Foreign reseller');
    const next = /<a rel="next" href="([^"]+)">More resellers<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const second = await admin.get(next as string);
    expect(second.status).toBe(200);
    expect([...shown(first.text), ...shown(second.text)].sort()).toEqual(
      Array.from({ length: 51 }, (_, index) => String(index + 1).padStart(2, '0')),
    );
    expect(second.text).not.toContain('More resellers');
  });
});

describe('settings', () => {
  const etagOf = async (name: string) => (await landlord.admin.get(`/v1/products/${name}`)).headers.etag as string;

  it('shows the settings as a form and saves a change through the product service, audited with the operator', async () => {
    const page = await admin.get(`/console/products/${product.id}`);
    expect(fieldOf(page.text, 'settings-displayName').input).toContain('value="People product"');
    expect(fieldOf(page.text, 'settings-webhooks-creation').input).toContain(`value="${backend.url}/api/integration/{name}/creation"`);
    expect(page.text).toMatch(/<option value="response" selected>/);
    expect(fieldOf(page.text, 'settings-apiKey').input).toContain('value=""');
    const version = /name="version" value="([^"]+)"/.exec(page.text)?.[1]?.replaceAll('&quot;', '"');
    expect(version).toBe(await etagOf(product.name));

    const form = formValues(page.text, 'settings');
    expect(form['provisioning.mode']).toBe('response');
    const saved = await admin.post(`/console/products/${product.id}/settings`, {
      ...form,
      version: version as string,
      displayName: 'Renamed <i>product</i>',
      'webhooks.unavailable': `${backend.url}/unavailable/{name}`,
      'webhooks.deletion': '',
      'healthCheck.intervalSeconds': '120',
      'provisioning.mode': 'callback',
      'provisioning.autoSendCreation': 'false',
    });
    expect(saved.status, saved.text).toBe(303);
    expect(saved.headers.location).toBe(`/console/products/${product.id}?notice=updated`);
    const view = (await landlord.admin.get(`/v1/products/${product.name}`)).body.data;
    expect(view).toMatchObject({
      displayName: 'Renamed <i>product</i>',
      webhooks: { creation: `${backend.url}/api/integration/{name}/creation`, unavailable: `${backend.url}/unavailable/{name}` },
      healthCheck: { intervalSeconds: 120, timeoutSeconds: 5 },
      provisioning: { mode: 'callback', autoSendCreation: false, maxAttempts: 8 },
      signInUrl: 'https://app.example/sign-in',
    });
    expect(view.webhooks.deletion).toBeUndefined();
    expect(view.apiKey).toMatch(/^••••/);
    const after = await admin.get(`/console/products/${product.id}?notice=updated`);
    expect(after.text).toContain('Renamed &lt;i&gt;product&lt;/i&gt;');
    expect(after.text).not.toContain('<i>product');
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'product.update')
      .where('object_id', '=', product.id)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
  });

  it('draws refused settings again with the API’s problems beside the fields, and saves nothing', async () => {
    const path = `/console/products/${other.id}/settings`;
    const before = await etagOf(other.name);
    const schema = await admin.post(path, {
      displayName: '',
      'healthCheck.intervalSeconds': 'often',
      'provisioning.maxAttempts': '99',
      apiKey: 'a-new-secret-key-123456',
    });
    expect(schema.status).toBe(400);
    expect(fieldOf(schema.text, 'settings-displayName').problem).toContain('"displayName" must NOT have fewer than 1 characters');
    expect(fieldOf(schema.text, 'settings-healthCheck-intervalSeconds').problem).toBe('"healthCheck.intervalSeconds" must be integer');
    expect(fieldOf(schema.text, 'settings-healthCheck-intervalSeconds').input).toContain('value="often"');
    expect(fieldOf(schema.text, 'settings-provisioning-maxAttempts').problem).toBe('"provisioning.maxAttempts" must be <= 50');
    expect(schema.text).not.toContain('a-new-secret-key-123456');

    const service = await admin.post(path, { 'webhooks.creation': 'ftp://backend.example/{name}' });
    expect(service.status).toBe(400);
    expect(fieldOf(service.text, 'settings-webhooks-creation').problem).toContain('webhooks.creation');
    expect(await etagOf(other.name)).toBe(before);
    const timeout = await admin.post(path, { 'healthCheck.intervalSeconds': '10', 'healthCheck.timeoutSeconds': '20' });
    expect(timeout.status).toBe(400);
    expect(fieldOf(timeout.text, 'settings-healthCheck-timeoutSeconds').problem).toBe(
      'healthCheck.timeoutSeconds must not exceed healthCheck.intervalSeconds',
    );
    expect(await etagOf(other.name)).toBe(before);
  });

  it('refuses to overwrite a change made since the form was drawn (412, the current settings shown)', async () => {
    const stale = await etagOf(other.name);
    const changed = await landlord.admin.patch(`/v1/products/${other.name}`, { displayName: 'Changed meanwhile' });
    expect(changed.status).toBe(200);
    const refused = await admin.post(`/console/products/${other.id}/settings`, { version: stale, displayName: 'Mine' });
    expect(refused.status).toBe(412);
    expect(refused.text).toContain('Someone changed these settings');
    expect(fieldOf(refused.text, 'settings-displayName').input).toContain('value="Changed meanwhile"');
    expect((await landlord.admin.get(`/v1/products/${other.name}`)).body.data.displayName).toBe('Changed meanwhile');
  });

  it('refuses a form without the CSRF token, from another origin, or for another product’s operator', async () => {
    const path = `/console/products/${other.id}/settings`;
    const before = await etagOf(other.name);
    expect((await admin.browser.send('POST', path, { displayName: 'x' }, { origin: new URL(landlord.url).origin })).status).toBe(403);
    expect((await admin.post(path, { displayName: 'x' }, { origin: 'http://evil.example' })).status).toBe(403);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    expect((await scoped.post(path, { displayName: 'x' })).status).toBe(404);
    expect(await etagOf(other.name)).toBe(before);
  });
});
