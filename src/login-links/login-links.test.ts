import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { differentFrom } from '../../test/helpers/different.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';
import { rotateSigningKey } from '../platform/signing-keys.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let tenant: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url, 'https://app.example/sso?from=landlord');
  other = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** Adds an accepted user to `tenantName`; returns its login and e-mail. */
async function user(tenantName: string, body: Record<string, unknown> = {}) {
  const login = uniqueName('u');
  const address = `${login}@example.com`;
  const invited = await product.client.post(`/v1/tenants/${tenantName}/users`, { email: address, login, ...body });
  expect(invited.status).toBe(201);
  const accepted = await landlord
    .as(undefined)
    .post('/v1/invitations/accept', { token: invited.body.data.invitation.token, fullName: 'Sam User' });
  expect(accepted.status).toBe(200);
  return { login, email: address };
}

const issue = (login: string, body: Record<string, unknown> = { path: '/' }, tenantName = tenant.name) =>
  product.client.post(`/v1/tenants/${tenantName}/users/${login}/login-links`, body);

/** Opens a link as a browser would, without following the redirect. */
async function open(url: string, method: 'GET' | 'HEAD' = 'GET') {
  const response = await request(url, { method });
  return { status: response.statusCode, location: response.headers.location as string | undefined, text: await response.body.text() };
}

const jwks = () => createRemoteJWKSet(new URL(`${landlord.url}/.well-known/jwks.json`));
const verifyAssertion = (location: string) =>
  jwtVerify(new URL(location).searchParams.get('assertion') ?? '', jwks(), { issuer: 'landlord', audience: product.name });

describe('one-time login links', () => {
  it('signs the user in once: a 303 to the sign-in URL with an assertion the product verifies against the JWKS', async () => {
    const person = await user(tenant.name, { permissions: ['tenant_statistics'], roles: ['member'] });
    const issued = await issue(person.login, { path: '/orders?page=2' });
    expect(issued.status).toBe(201);
    const { path, loginUrl, expires } = issued.body.data;
    expect(path).toBe('/orders?page=2');
    expect(loginUrl).toMatch(new RegExp(`^${landlord.url}/login/llln_[0-9A-Za-z]+$`));
    expect(expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(expires) - Date.now()).toBeGreaterThan(290_000);
    expect(Date.parse(expires) - Date.now()).toBeLessThanOrEqual(300_000);

    // A HEAD (a link preview) neither signs in nor spends the link.
    expect((await open(loginUrl, 'HEAD')).status).toBe(404);
    const opened = await open(loginUrl);
    expect(opened.status).toBe(303);
    const location = new URL(opened.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://app.example/sso');
    expect(location.searchParams.get('from')).toBe('landlord');
    expect(location.searchParams.get('path')).toBe('/orders?page=2');

    const { payload } = await verifyAssertion(opened.location ?? '');
    expect(payload).toMatchObject({
      iss: 'landlord',
      aud: product.name,
      tenant: tenant.name,
      tid: tenant.id,
      login: person.login,
      email: person.email,
      name: 'Sam User',
      permissions: ['tenant_statistics'],
      path: '/orders?page=2',
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(60);

    const again = await open(loginUrl);
    expect(again.status).toBe(410);
    expect(again.location).toBeUndefined();
    expect(again.text).toContain('used already');
  });

  it('shows a plain error page for an expired, a tampered and an unknown link, and signs nobody in', async () => {
    const person = await user(tenant.name);
    const expired = (await issue(person.login, { path: '/', expiresInSeconds: 30 })).body.data.loginUrl as string;
    await landlord.node.services.db
      .updateTable('login_links')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
    const late = await open(expired);
    expect(late.status).toBe(410);
    expect(late.text).toContain('expired');

    const fresh = (await issue(person.login)).body.data.loginUrl as string;
    const tampered = differentFrom(fresh);
    const forged = await open(tampered);
    expect(forged.status).toBe(404);
    expect(forged.text).toContain('not valid');
    expect((await open(`${landlord.url}/login/llln_unknown`)).status).toBe(404);
    // Neither spent the real link.
    expect((await open(fresh)).status).toBe(303);
  });

  it('keeps working across a signing-key rotation: links issued before it still sign in, and both assertions verify', async () => {
    const person = await user(tenant.name);
    const before = (await issue(person.login)).body.data.loginUrl as string;
    const after = (await issue(person.login)).body.data.loginUrl as string;
    const first = await open(before);
    const published = async () => (await landlord.admin.get('/.well-known/jwks.json')).body.keys.map((key: { kid: string }) => key.kid);
    const keysBefore = await published();
    const { db, box } = landlord.node.services;
    await rotateSigningKey(db, box);
    // The node hears of the rotation (NOTIFY) and reloads its ring by itself.
    await eventually(async () => ((await published()).length > keysBefore.length ? true : undefined), 5000, 'the rotated key published');
    const second = await open(after);
    expect(second.status).toBe(303);
    const kid = (location: string) => decodeProtectedHeader(new URL(location).searchParams.get('assertion') ?? '').kid;
    expect(kid(second.location ?? '')).not.toBe(kid(first.location ?? ''));
    expect(await published()).toEqual(expect.arrayContaining([kid(first.location ?? ''), kid(second.location ?? '')]));
    expect((await verifyAssertion(first.location ?? '')).payload.login).toBe(person.login);
    expect((await verifyAssertion(second.location ?? '')).payload.login).toBe(person.login);
  });
});

describe('POST /v1/tenants/{tenant}/users/{login}/login-links refusals', () => {
  it('names the problem: unknown user (404), pending invitation (409), unsafe path (400)', async () => {
    const unknown = await issue('nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'membership.not_found', parameter: 'login' });
    const invited = await product.client.post(`/v1/tenants/${tenant.name}/users`, {
      email: `${uniqueName('i')}@example.com`,
      login: 'pending',
    });
    expect(invited.status).toBe(201);
    const pending = await issue('pending');
    expect(pending.status).toBe(409);
    expect(pending.body.metadata.errors[0].code).toBe('membership.not_active');
    const person = await user(tenant.name);
    for (const path of ['//evil.example', '/\\evil.example', 'https://evil.example', '/with space']) {
      const unsafe = await issue(person.login, { path });
      expect(unsafe.status, path).toBe(400);
      expect(unsafe.body.metadata.errors[0].parameter).toBe('path');
    }
  });

  it('refuses a tenant that is not live and a product without a sign-in URL (409)', async () => {
    const down = await liveTenant(landlord, product.name);
    const person = await user(down.name);
    await landlord.admin.post(`/v1/tenants/${down.name}/deactivate`);
    await waitForStatus(landlord, down.name, 'inactive');
    const notLive = await issue(person.login, { path: '/' }, down.name);
    expect(notLive.status).toBe(409);
    expect(notLive.body.metadata.errors[0].code).toBe('tenant.not_live');

    const live = await user(tenant.name);
    await landlord.admin.patch(`/v1/products/${product.name}`, { signInUrl: null });
    try {
      const none = await issue(live.login, { path: '/' });
      expect(none.status).toBe(409);
      expect(none.body.metadata.errors[0]).toMatchObject({ code: 'product.no_sign_in_url', parameter: 'signInUrl' });
    } finally {
      await landlord.admin.patch(`/v1/products/${product.name}`, { signInUrl: 'https://app.example/sso?from=landlord' });
    }
  });

  it("hides another product's tenants (404)", async () => {
    const person = await user(tenant.name);
    const foreign = await other.client.post(`/v1/tenants/${tenant.name}/users/${person.login}/login-links`, { path: '/' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.metadata.errors[0].code).toBe('tenant.not_found');
  });
});

describe('LANDLORD_PUBLIC_URL', () => {
  it('is the base of every loginUrl when set, whatever address the request came to, and the link opens there', async () => {
    const behindProxy = await startTestLandlord({
      database: landlord.database,
      env: { LANDLORD_PUBLIC_URL: 'https://id.example.com/landlord/' },
    });
    try {
      const person = await user(tenant.name);
      const issued = await behindProxy.admin.post(
        `/v1/tenants/${tenant.name}/users/${person.login}/login-links`,
        { path: '/' },
        { host: 'internal:8080' },
      );
      expect(issued.status).toBe(201);
      const { loginUrl } = issued.body.data;
      expect(loginUrl).toMatch(/^https:\/\/id\.example\.com\/landlord\/login\/llln_[0-9A-Za-z]+$/);
      // The proxy forwards /landlord/… to Landlord's own /…: the same token opens the link.
      const opened = await open(`${landlord.url}/login/${loginUrl.split('/login/')[1]}`);
      expect(opened.status).toBe(303);
    } finally {
      await behindProxy.close();
    }
  });
});
