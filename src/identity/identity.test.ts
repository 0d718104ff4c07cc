import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { deleteExpiredIdentityRecords } from './expired-records.ts';
import { actionOf, Browser, csrfOf, signIn, userWithPassword } from './identity.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let tenant: { id: string; name: string };
const logged: string[] = [];

beforeAll(async () => {
  // Every log line at the most talkative level, to prove no secret ever reaches it.
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } }, sink);
  landlord = await startTestLandlord({ logger });
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const eventsOf = async (type: string) =>
  (await landlord.admin.get(`/v1/events?type=${type}&product=${product.name}&limit=500`)).body.data as any[];

describe('password links', () => {
  it('work once: the second use is a plain 410 page, and the password set signs in', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const link = await product.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, { purpose: 'reset' });
    expect(link.status).toBe(201);
    expect(link.body.data).toMatchObject({ purpose: 'reset', url: expect.stringMatching(/\/password\/llpw_/) });
    const browser = new Browser(landlord.url);
    const form = await browser.get(link.body.data.url);
    expect((await browser.post(actionOf(form), { _csrf: csrfOf(form), password: 'short' })).status).toBe(400);
    const set = await browser.post(actionOf(form), { _csrf: csrfOf(form), password: 'a brand new passphrase' });
    expect(set.status).toBe(303);
    const again = await new Browser(landlord.url).get(link.body.data.url);
    expect(again.status).toBe(410);
    expect(again.text).toContain('used already');
    expect((await signIn(new Browser(landlord.url), product.name, person.email, person.password)).status).toBe(401);
    expect((await signIn(new Browser(landlord.url), product.name, person.email, 'a brand new passphrase')).status).toBe(303);
    await eventually(async () => ((await eventsOf('password.changed')).some((event) => event.data.password.user) ? true : undefined));
  });

  it('ends every other session when the password changes', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const elsewhere = new Browser(landlord.url);
    await signIn(elsewhere, product.name, person.email, person.password);
    expect((await elsewhere.get(`/account/${product.name}`)).status).toBe(200);
    const link = await product.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, {});
    const browser = new Browser(landlord.url);
    const form = await browser.get(link.body.data.url);
    await browser.post(actionOf(form), { _csrf: csrfOf(form), password: 'another fresh passphrase' });
    expect((await elsewhere.get(`/account/${product.name}`)).status).toBe(303);
    expect((await browser.get(`/account/${product.name}`)).status).toBe(200);
  });

  it('"forgot your password" emits password.reset_requested with the link for a known user, and answers alike for anyone', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const ask = async (email: string) => {
      const browser = new Browser(landlord.url);
      const form = await browser.get(`/signin/${product.name}/forgot`);
      return browser.post(actionOf(form), { _csrf: csrfOf(form), email });
    };
    const known = await ask(person.email);
    const unknown = await ask('nobody-at-all@example.com');
    expect(known.status).toBe(200);
    expect(unknown.text).toBe(known.text);
    const event = await eventually(async () =>
      (await eventsOf('password.reset_requested')).find((one) => one.data.password.email === person.email),
    );
    expect(event.data.password.resetUrl).toMatch(/\/password\/llpw_/);
    expect((await eventsOf('password.reset_requested')).some((one) => one.data.password.email === 'nobody-at-all@example.com')).toBe(false);
    const form = await new Browser(landlord.url).get(event.data.password.resetUrl);
    expect(form.status).toBe(200);
  });

  it('POST …/password-links: 404 for an unknown user or another product’s credential, 401 without one', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    expect((await product.client.post(`/v1/tenants/${tenant.name}/users/nobody/password-links`, {})).status).toBe(404);
    const foreign = await other.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, {});
    expect(foreign.status).toBe(404);
    expect(foreign.body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await landlord.as(undefined).post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, {})).status).toBe(401);
    expect(
      (await product.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, { purpose: 'other' })).status,
    ).toBe(400);
  });
});

describe('sessions', () => {
  it('sign-out ends the session; sign-in and sign-out are audited and emitted', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const account = await browser.get(`/account/${product.name}`);
    const signOut = await browser.post(`/signout/${product.name}`, { _csrf: csrfOf(account) });
    expect(signOut.status).toBe(200);
    expect((await browser.get(`/account/${product.name}`)).status).toBe(303);
    const created = await eventually(async () => (await eventsOf('session.created')).length > 0 || undefined);
    expect(created).toBe(true);
    await eventually(async () =>
      (await eventsOf('session.revoked')).some((event) => event.data.session.reason === 'signed_out') ? true : undefined,
    );
  });

  it('a user lists their sessions and revokes one; the product revokes one by API; another product gets 404', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const sessionsOf = async () =>
      (await product.client.get(`/v1/users/${encodeURIComponent(person.email)}/sessions`)).body.data as { id: string }[];
    const first = new Browser(landlord.url);
    const second = new Browser(landlord.url);
    await signIn(first, product.name, person.email, person.password);
    const firstId = (await sessionsOf())[0]?.id ?? '';
    await signIn(second, product.name, person.email, person.password);
    const listed = await product.client.get(`/v1/users/${encodeURIComponent(person.email)}/sessions`);
    expect(listed.status).toBe(200);
    const secondId = listed.body.data[0].id as string;
    expect(listed.body.data.map((one: { id: string }) => one.id)).toContain(firstId);
    expect(JSON.stringify(listed.body)).not.toMatch(/llss_|token/);
    expect((await other.client.get(`/v1/users/${encodeURIComponent(person.email)}/sessions`)).status).toBe(404);

    // The user revokes the other browser's session from their account page.
    const account = await first.get(`/account/${product.name}`);
    expect(account.text).toContain(`/sessions/${secondId}/revoke`);
    expect((await first.post(`/account/${product.name}/sessions/${secondId}/revoke`, { _csrf: csrfOf(account) })).status).toBe(303);
    expect((await second.get(`/account/${product.name}`)).status).toBe(303);
    expect((await first.get(`/account/${product.name}`)).status).toBe(200);

    // The product revokes the first browser's session.
    const foreign = await other.client.delete(`/v1/users/${encodeURIComponent(person.email)}/sessions/${firstId}`);
    expect(foreign.status).toBe(404);
    const revoked = await product.client.delete(`/v1/users/${encodeURIComponent(person.email)}/sessions/${firstId}`);
    expect(revoked.status).toBe(200);
    expect((await first.get(`/account/${product.name}`)).status).toBe(303);
    expect((await product.client.delete(`/v1/users/${encodeURIComponent(person.email)}/sessions/${firstId}`)).status).toBe(404);
  });

  it('a user of several tenants chooses one at sign-in, or the request names it', async () => {
    const second = await liveTenant(landlord, product.name);
    const person = await userWithPassword(landlord, product, tenant.name);
    const joined = await product.client.post(`/v1/tenants/${second.name}/users`, { email: person.email, login: 'again' });
    expect(joined.status).toBe(201);
    const browser = new Browser(landlord.url);
    const answer = await signIn(browser, product.name, person.email, person.password);
    expect(answer.location).toMatch(new RegExp(`^/signin/${product.name}/tenant\\?`));
    const chooser = await browser.get(answer.location ?? '');
    expect(chooser.text).toContain(second.name);
    const chosen = await browser.post(actionOf(chooser), { _csrf: csrfOf(chooser), tenant: second.name });
    expect(chosen.status).toBe(303);
    expect((await browser.get(`/account/${product.name}`)).text).toContain('again');

    const named = new Browser(landlord.url);
    const direct = await signIn(named, product.name, person.email, person.password, `?tenant=${tenant.name}`);
    expect(direct.location).toBe(`/account/${product.name}`);
  });

  it('a login link can end in a Landlord session instead of the product', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const link = await product.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/login-links`, { signIn: 'landlord' });
    expect(link.status, link.text).toBe(201);
    const browser = new Browser(landlord.url);
    const opened = await browser.get(link.body.data.loginUrl);
    expect(opened.status).toBe(303);
    expect(opened.location).toBe(`/account/${product.name}`);
    expect((await browser.get(opened.location ?? '')).text).toContain(person.email);
    expect((await new Browser(landlord.url).get(link.body.data.loginUrl)).status).toBe(410);
  });
});

describe('throttling', () => {
  it('blocks an account after 5 failures with 429 and Retry-After, even with the right password, and an unknown e-mail alike', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    for (const email of [person.email, 'ghost-account@example.com']) {
      for (let attempt = 0; attempt < 5; attempt++)
        expect((await signIn(new Browser(landlord.url), product.name, email, 'wrong password!')).status).toBe(401);
      const blocked = await signIn(new Browser(landlord.url), product.name, email, email === person.email ? person.password : 'x');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
      expect(blocked.text).toContain('Too many attempts');
    }
    await eventually(async () =>
      (await eventsOf('sign_in.failed')).some((event) => event.data.sign_in.reason === 'throttled') ? true : undefined,
    );
  });
});

describe('secrets', () => {
  it('never reach the logs or the API: passwords, hashes, session tokens, client secrets', async () => {
    const person = await userWithPassword(landlord, product, tenant.name, { password: 'Very-Secret-Passphrase-42' });
    await signIn(new Browser(landlord.url), product.name, person.email, 'Wrong-Passphrase-For-Logs');
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, 'Very-Secret-Passphrase-42');
    const client = await product.client.post(`/v1/products/${product.name}/oidc-clients`, {
      name: 'rp',
      type: 'confidential',
      redirectUris: ['https://rp.example/cb'],
    });
    const secret = client.body.data.clientSecret as string;
    const sessionToken = browser.cookies.get('landlord_session') ?? '';
    const link = await product.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/password-links`, {});
    const linkToken = String(link.body.data.url).split('/password/')[1] ?? '';
    expect(linkToken).toMatch(/^llpw_/);
    await new Browser(landlord.url).get(link.body.data.url);
    expect(sessionToken).toMatch(/^llss_/);
    const audit = await landlord.admin.get('/v1/audit-log?limit=500');
    const events = await landlord.admin.get('/v1/events?limit=500');
    const user = await landlord.admin.get(`/v1/users/${encodeURIComponent(person.email)}`);
    const everything = [
      logged.join('\n'),
      audit.text,
      events.text,
      user.text,
      (await product.client.get(`/v1/products/${product.name}/oidc-clients`)).text,
    ];
    expect(logged.length).toBeGreaterThan(10);
    for (const text of everything) {
      for (const secretValue of ['Very-Secret-Passphrase-42', 'Wrong-Passphrase-For-Logs', '$argon2id$', sessionToken, secret])
        expect(text).not.toContain(secretValue);
    }
  });
});

describe('expired identity records', () => {
  it('are deleted by the sweep; live ones stay', async () => {
    const { db, clock } = landlord.node.services;
    const past = new Date(Date.now() - 2 * 86_400_000);
    const future = new Date(Date.now() + 3_600_000);
    await db
      .insertInto('oidc_payloads')
      .values([
        { model: 'AccessToken', id: 'expired-token', payload: '{}', expires_at: past },
        { model: 'AccessToken', id: 'live-token', payload: '{}', expires_at: future },
      ])
      .execute();
    await db.insertInto('sign_in_throttle').values({ key: 'account:old@example.com', failures: 3, window_started_at: past }).execute();
    expect(await deleteExpiredIdentityRecords(db, clock)).toBeGreaterThanOrEqual(2);
    const left = await db.selectFrom('oidc_payloads').select('id').where('id', 'in', ['expired-token', 'live-token']).execute();
    expect(left.map((row) => row.id)).toEqual(['live-token']);
    expect(
      await db.selectFrom('sign_in_throttle').select('key').where('key', '=', 'account:old@example.com').executeTakeFirst(),
    ).toBeUndefined();
  });
});
