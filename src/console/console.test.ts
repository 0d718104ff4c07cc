import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { withoutSecrets } from '../http/app.ts';
import { Browser, csrfOf } from '../identity/identity.test-support.ts';
import { manualClock, systemClock } from '../platform/clock.ts';
import { type ConsoleSession, signInToConsole, startConsoleWorld } from './console.test-support.ts';
import { consoleLinkCommand } from './console-link.command.ts';
import { CONSOLE_LINK_SECONDS, createConsoleLink, redeemConsoleLink } from './operators.ts';

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

const linkOf = (printed: string) => {
  const match = /(\/console\/link\/\S+)/.exec(printed);
  if (!match?.[1]) throw new Error(`no link in ${printed}`);
  return match[1];
};

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

  it('tells htmx to load the sign-in page when a polled fragment finds the session gone', async () => {
    const page = await new Browser(landlord.url).send('GET', '/console/tenants?q=x', undefined, { 'hx-request': 'true' });
    expect(page.status).toBe(401);
    expect(page.headers['hx-redirect']).toBe('/console/signin?return_to=%2Fconsole%2Ftenants%3Fq%3Dx');
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

  it('forgets console links a day after they expired (the expired-console-links sweep)', async () => {
    const { db } = landlord.node.services;
    const old = await createConsoleLink(db, manualClock(new Date(Date.now() - 2 * 86_400_000)), 'root');
    const fresh = await createConsoleLink(db, systemClock, 'root');
    await landlord.node.sweeps.get('expired-console-links')?.runNow();
    const left = await db.selectFrom('console_links').select('expires_at').execute();
    expect(left.map((row) => row.expires_at.getTime())).toContain(fresh.expiresAt.getTime());
    expect(left.map((row) => row.expires_at.getTime())).not.toContain(old.expiresAt.getTime());
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
