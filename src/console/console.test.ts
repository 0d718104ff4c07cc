import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createPlanPrice, createProduct, createTenant, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { withoutSecrets } from '../http/app.ts';
import { Browser, csrfOf } from '../identity/identity.test-support.ts';
import { manualClock, systemClock } from '../platform/clock.ts';
import { ASSETS } from './assets.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';
import { consoleLinkCommand } from './console-link.command.ts';
import { CONSOLE_LINK_SECONDS, createConsoleLink, redeemConsoleLink } from './operators.ts';

let landlord: TestLandlord;
let admin: ConsoleSession;
let product: { id: string; name: string };
let other: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
  other = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
});

const linkOf = (printed: string) => {
  const match = /(\/console\/link\/\S+)/.exec(printed);
  if (!match?.[1]) throw new Error(`no link in ${printed}`);
  return match[1];
};
const statusOf = async (tenant: string) => (await landlord.admin.get(`/v1/tenants/${tenant}`)).body.data.status as string;

describe('signing in', () => {
  it('sends a visitor without a session to the sign-in page, which carries a strict CSP', async () => {
    const browser = new Browser(landlord.url);
    const page = await browser.get('/console/tenants?status=active');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/console/signin?return_to=%2Fconsole%2Ftenants%3Fstatus%3Dactive');
    const form = await browser.get(page.location ?? '');
    expect(form.status).toBe(200);
    expect(form.headers['content-security-policy']).toContain("default-src 'self'");
    expect(form.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(form.text).not.toMatch(/<script>|style=/);
  });

  it('takes an operator key once and keeps an HttpOnly, SameSite=Strict session cookie; a wrong key is refused', async () => {
    const browser = new Browser(landlord.url);
    const origin = landlord.url;
    const form = await browser.get('/console/signin');
    const wrong = await browser.send('POST', '/console/signin', { _csrf: csrfOf(form), key: 'll_not-a-key' }, { origin });
    expect(wrong.status).toBe(401);
    const right = await browser.send(
      'POST',
      '/console/signin?return_to=/console/audit',
      { _csrf: csrfOf(wrong), key: TEST_ADMIN_KEY },
      { origin },
    );
    expect(right.status).toBe(303);
    expect(right.location).toBe('/console/audit');
    const cookie = [right.headers['set-cookie']].flat().find((line) => String(line).startsWith('landlord_console='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/console/i);
    expect((await browser.get('/console/audit')).status).toBe(200);
  });

  it('refuses a sign-in form posted from another origin', async () => {
    const browser = new Browser(landlord.url);
    const form = await browser.get('/console/signin');
    const posted = await browser.send(
      'POST',
      '/console/signin',
      { _csrf: csrfOf(form), key: TEST_ADMIN_KEY },
      { origin: 'http://evil.example' },
    );
    expect(posted.status).toBe(403);
    expect(browser.cookies.has('landlord_console')).toBe(false);
  });

  it('signs in once with a console link; the link cannot be used again', async () => {
    const { db, config } = landlord.node.services;
    const printed = await consoleLinkCommand(
      db,
      { ...config, publicUrl: landlord.url },
      systemClock,
      { type: 'admin_key', id: 'cli', requestId: null },
      [],
    );
    const path = linkOf(printed);
    const browser = new Browser(landlord.url);
    const landing = await browser.get(path);
    expect(landing.status).toBe(200);
    expect(browser.cookies.has('landlord_console')).toBe(false);
    const used = await browser.send('POST', path, { _csrf: csrfOf(landing) }, { origin: landlord.url });
    expect(used.status).toBe(303);
    expect((await browser.get('/console')).status).toBe(200);
    const again = new Browser(landlord.url);
    const second = await again.send('POST', path, { _csrf: csrfOf(await again.get(path)) }, { origin: landlord.url });
    expect(second.status).toBe(401);
  });

  it('keeps console link tokens out of the access log', () => {
    expect(withoutSecrets('/console/link/llcl_abc?x=1')).toBe('/console/link/[redacted]?x=1');
  });

  it('a console link works for 5 minutes only, and once', async () => {
    const { db } = landlord.node.services;
    const clock = manualClock(new Date());
    const late = await createConsoleLink(db, clock, 'root');
    clock.advance(CONSOLE_LINK_SECONDS * 1000);
    expect(await redeemConsoleLink(db, clock, late.token)).toBeUndefined();
    const timely = await createConsoleLink(db, clock, 'root');
    clock.advance(CONSOLE_LINK_SECONDS * 1000 - 1000);
    const [first, second] = await Promise.all([redeemConsoleLink(db, clock, timely.token), redeemConsoleLink(db, clock, timely.token)]);
    expect([first, second].filter(Boolean)).toEqual(['root']);
    expect(await redeemConsoleLink(db, clock, `${timely.token.slice(0, -1)}x`)).toBeUndefined();
  });

  it('a console link for a product-scoped key signs in with that key’s rights', async () => {
    const key = await productAdminKey(landlord, product.name);
    const { db, config } = landlord.node.services;
    const prefix = key.slice(0, 15);
    const printed = await consoleLinkCommand(db, config, systemClock, { type: 'admin_key', id: 'cli', requestId: null }, ['--key', prefix]);
    const browser = new Browser(landlord.url);
    const path = linkOf(printed);
    await browser.send('POST', path, { _csrf: csrfOf(await browser.get(path)) }, { origin: landlord.url });
    const page = await browser.get('/console/products');
    expect(page.status).toBe(200);
    expect(page.text).toContain(product.name);
    expect(page.text).not.toContain(other.name);
  });

  it('signs out: the session ends and the cookie no longer opens pages', async () => {
    const session = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
    const cookie = session.browser.cookies.get('landlord_console');
    const out = await session.post('/console/signout');
    expect(out.status).toBe(303);
    const trail = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('action', 'in', ['console.sign_in', 'console.sign_out'])
      .where('actor_id', '=', 'admin-key')
      .execute();
    expect(trail.map((row) => row.action)).toContain('console.sign_out');
    session.browser.cookies.set('landlord_console', cookie ?? '');
    expect((await session.get('/console')).status).toBe(303);
  });

  it('lets a super admin see and end another operator’s console session', async () => {
    const other = await signInToConsole(landlord.url, await productAdminKey(landlord, product.name));
    const theirs = await landlord.node.services.db
      .selectFrom('sessions')
      .select('id')
      .where('kind', '=', 'operator')
      .where('subject_id', 'like', 'key:%')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    const page = await admin.get('/console/operators');
    expect(page.text).toContain('(you)');
    expect(page.text).toContain(`/console/operators/sessions/${theirs.id}/revoke`);
    expect((await admin.post(`/console/operators/sessions/${theirs.id}/revoke`)).status).toBe(303);
    expect((await other.get('/console/tenants')).status).toBe(303);
    expect((await admin.get('/console/tenants')).status).toBe(200);
    expect((await admin.post(`/console/operators/sessions/${crypto.randomUUID()}/revoke`)).status).toBe(404);
  });

  it('ends the session of a key revoked meanwhile', async () => {
    const key = await productAdminKey(landlord, product.name);
    const session = await signInToConsole(landlord.url, key);
    const keys = (await landlord.node.services.db.selectFrom('api_keys').select(['id', 'lookup']).execute()).find((row) =>
      key.startsWith(row.lookup),
    );
    await landlord.node.services.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', keys?.id ?? '')
      .execute();
    expect((await session.get('/console/tenants')).status).toBe(303);
  });
});

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

  it('takes an action the tenant allows and records it with the operator as actor', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const page = await admin.get(`/console/tenants/${tenant.id}`);
    expect(page.text).toContain(`action="/console/tenants/${tenant.id}/actions/send_creation_request"`);
    const done = await admin.post(`/console/tenants/${tenant.id}/actions/send_creation_request`);
    expect(done.status).toBe(303);
    expect(await statusOf(tenant.id)).not.toBe('record_created');
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
