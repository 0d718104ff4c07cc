import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { actionOf, Browser, csrfOf, signIn, userWithPassword } from '../identity/identity.test-support.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { verifyTenantAccessToken } from './access-tokens.ts';
import { resourceOf } from './provider.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let tenant: { id: string; name: string };
const REDIRECT = 'https://rp.example/callback';
const AFTER_LOGOUT = 'https://rp.example/signed-out';

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function registerClient(owner: PeopleProduct, type: 'confidential' | 'public', extra: Record<string, unknown> = {}) {
  const created = await owner.client.post(`/v1/products/${owner.name}/oidc-clients`, {
    name: `RP ${type}`,
    type,
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [AFTER_LOGOUT],
    ...extra,
  });
  expect(created.status, created.text).toBe(201);
  return created.body.data as { clientId: string; clientSecret?: string; idTokenSigningAlg: string };
}

async function discover(client: { clientId: string; clientSecret?: string; idTokenSigningAlg?: string }) {
  const auth = client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None();
  // The relying party expects the algorithm its registration names, as a real one is configured to.
  const metadata = { id_token_signed_response_alg: client.idTokenSigningAlg ?? 'RS256' };
  return oidc.discovery(new URL(landlord.url), client.clientId, metadata, auth, { execute: [oidc.allowInsecureRequests] });
}

/** Runs the authorization request in a browser until Landlord redirects to the RP (or stops). */
async function authorize(
  browser: Browser,
  config: oidc.Configuration,
  params: Record<string, string>,
  signInAs?: { email: string; password: string },
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  let page = await browser.follow(await browser.get(url.href));
  if (signInAs && page.status === 200 && page.text.includes('name="password"')) {
    page = await browser.follow(
      await browser.post(actionOf(page), { _csrf: csrfOf(page), email: signInAs.email, password: signInAs.password }),
    );
  }
  return { page, verifier, state };
}

describe('OpenID Connect with openid-client as the relying party', () => {
  it('discovery, code + PKCE through the sign-in page, token, userinfo, refresh, logout; the tenant claim', async () => {
    const person = await userWithPassword(landlord, product, tenant.name, { roles: ['member'], permissions: ['tenant_statistics'] });
    const client = await registerClient(product, 'confidential');
    const config = await discover(client);
    expect(config.serverMetadata().issuer).toBe(landlord.url);
    expect(config.serverMetadata().jwks_uri).toBe(`${landlord.url}/.well-known/jwks.json`);

    const browser = new Browser(landlord.url);
    const { page, verifier, state } = await authorize(browser, config, { resource: resourceOf(product.name) }, person);
    expect(page.status, page.text).toBe(303);
    expect(page.location).toMatch(/^https:\/\/rp\.example\/callback\?code=/);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: landlord.url, aud: client.clientId, email: person.email, name: 'Sam User', email_verified: true });
    expect(claims?.tenant).toEqual({
      id: tenant.id,
      name: tenant.name,
      display_name: 'A tenant',
      login: person.login,
      roles: ['member'],
      permissions: ['tenant_statistics'],
    });
    expect(decodeProtectedHeader(tokens.id_token ?? '').alg).toBe('RS256');
    const sub = String(claims?.sub);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toMatchObject({ sub, email: person.email, tenant: { id: tenant.id, login: person.login } });

    // A JWT access token for the product's API: ask for the product's resource.
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '', { resource: resourceOf(product.name) });
    const jwks = createRemoteJWKSet(new URL(`${landlord.url}/.well-known/jwks.json`));
    const access = await jwtVerify(refreshed.access_token, jwks, { issuer: landlord.url, audience: product.name });
    expect(access.payload).toMatchObject({
      sub,
      client_id: client.clientId,
      tenant: { id: tenant.id, permissions: ['tenant_statistics'] },
    });
    expect(access.protectedHeader.typ).toBe('at+jwt');

    // What a product's API (Roomle's) does with it: verify locally with the ring.
    const { keyRing } = landlord.node.services;
    const verified = await verifyTenantAccessToken(keyRing, landlord.url, product.name, refreshed.access_token);
    expect(verified).toMatchObject({
      userId: sub,
      clientId: client.clientId,
      tenant: { id: tenant.id, login: person.login, roles: ['member'] },
      permissions: ['tenant_statistics'],
    });
    await expect(verifyTenantAccessToken(keyRing, landlord.url, other.name, refreshed.access_token)).rejects.toMatchObject({
      code: 'access_token.invalid',
    });
    await expect(verifyTenantAccessToken(keyRing, landlord.url, product.name, tokens.id_token ?? '')).rejects.toMatchObject({
      code: 'access_token.invalid',
    });

    // RP-initiated logout ends the Landlord session too.
    const end = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: AFTER_LOGOUT });
    const confirm = await browser.get(end.href);
    expect(confirm.status, confirm.text).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)?.[1] ?? '';
    const done = await browser.post(/action="([^"]+)"/.exec(confirm.text)?.[1] ?? '', { xsrf, logout: 'yes' });
    expect(done.status, done.text).toBe(303);
    expect(done.location).toBe(AFTER_LOGOUT);
    expect((await browser.get(`/account/${product.name}`)).status).toBe(303);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token ?? tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('stops a client revoked on another node at once: the node’s client cache hears the NOTIFY', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const client = await registerClient(product, 'confidential');
    const config = await discover(client);
    const browser = new Browser(landlord.url);
    const { page, verifier, state } = await authorize(browser, config, {}, person);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    // This node has read the client (and keeps it for a minute unless told otherwise).
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    const second = await startTestLandlord({ database: landlord.database });
    try {
      const revoked = await second.admin.delete(`/v1/products/${product.name}/oidc-clients/${client.clientId}`);
      expect(revoked.status, revoked.text).toBe(200);
      const refusal = await eventually(
        () =>
          oidc.refreshTokenGrant(config, refreshed.refresh_token ?? '').then(
            () => undefined,
            (error: unknown) => error,
          ),
        5_000,
        'the revoked client refused on the first node',
      );
      expect(refusal).toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
    } finally {
      await second.close();
    }
  });

  it('signs a client’s ID tokens in the algorithm it registered (RS256 unless ES256 or EdDSA), each verified with the published keys', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const jwks = createRemoteJWKSet(new URL(`${landlord.url}/.well-known/jwks.json`));
    for (const alg of ['ES256', 'EdDSA']) {
      const client = await registerClient(product, 'confidential', { idTokenSigningAlg: alg });
      expect(client.idTokenSigningAlg).toBe(alg);
      const config = await discover(client);
      expect(config.serverMetadata().id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', alg]));
      const { page, verifier, state } = await authorize(browser, config, {});
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ''), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const verified = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: landlord.url, audience: client.clientId, algorithms: [alg] });
      expect(verified.payload.tenant).toMatchObject({ id: tenant.id, login: person.login });
      // A relying party that expects RS256 refuses it: the algorithm is the registration's, not the token's choice.
      const expectingRs256 = await discover({ ...client, idTokenSigningAlg: 'RS256' });
      const again = await authorize(browser, expectingRs256, {});
      await expect(
        oidc.authorizationCodeGrant(expectingRs256, new URL(again.page.location ?? ''), {
          pkceCodeVerifier: again.verifier,
          expectedState: again.state,
        }),
      ).rejects.toMatchObject({ cause: { message: 'unexpected JWT "alg" header parameter', cause: { expected: 'RS256' } } });
    }
    const plain = await registerClient(product, 'confidential');
    expect(plain.idTokenSigningAlg).toBe('RS256');
    const read = await product.client.get(`/v1/products/${product.name}/oidc-clients/${plain.clientId}`);
    expect(read.body.data.idTokenSigningAlg).toBe('RS256');

    const refused = await product.client.post(`/v1/products/${product.name}/oidc-clients`, {
      name: 'RP',
      type: 'confidential',
      redirectUris: [REDIRECT],
      idTokenSigningAlg: 'HS256',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.metadata.errors[0].parameter).toBe('idTokenSigningAlg');
  });

  it('requires PKCE of a public client and signs in without a secret', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const client = await registerClient(product, 'public');
    expect(client.clientSecret).toBeUndefined();
    const config = await discover(client);
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const withoutPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 's' });
    const refused = await browser.get(withoutPkce.href);
    expect(refused.location).toMatch(/error=invalid_request/);
    const { page, verifier, state } = await authorize(browser, config, {});
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.claims()?.sub).toBeTruthy();
  });

  it('refuses a wrong redirect URI, a reused code, and another product’s client', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const client = await registerClient(product, 'confidential');
    const config = await discover(client);
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);

    const wrong = await browser.get(
      oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://evil.example/cb', scope: 'openid', state: 's' }).href,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.location).toBeUndefined();
    expect(wrong.text).toContain('redirect_uri');

    const { page, verifier, state } = await authorize(browser, config, {});
    const callback = new URL(page.location ?? '');
    await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject(
      {
        error: 'invalid_grant',
      },
    );

    // A client of another product: its users are not this product's, and its management is 404 here.
    const foreign = await registerClient(other, 'confidential');
    const look = await other.client.get(`/v1/products/${product.name}/oidc-clients/${client.clientId}`);
    expect(look.status).toBe(404);
    const foreignConfig = await discover(foreign);
    const { page: foreignPage } = await authorize(browser, foreignConfig, {});
    expect(foreignPage.status).toBe(403);
    expect(foreignPage.text).toContain('no account');
  });

  it('signs a user of several tenants in to the tenant the request names, and remembers it', async () => {
    const second = await liveTenant(landlord, product.name);
    const person = await userWithPassword(landlord, product, tenant.name);
    expect((await product.client.post(`/v1/tenants/${second.name}/users`, { email: person.email, login: 'second-login' })).status).toBe(
      201,
    );
    const client = await registerClient(product, 'confidential');
    const config = await discover(client);
    const browser = new Browser(landlord.url);
    const tenantOf = async (params: Record<string, string>, signInAs?: { email: string; password: string }) => {
      const { page, verifier, state } = await authorize(browser, config, params, signInAs);
      expect(page.location, page.text).toMatch(/^https:\/\/rp\.example\/callback\?code=/);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.location ?? ''), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      return (tokens.claims()?.tenant as { name: string; login: string }) ?? undefined;
    };
    expect(await tenantOf({ tenant: second.name }, person)).toMatchObject({ name: second.name, login: 'second-login' });
    expect(await tenantOf({})).toMatchObject({ name: second.name });
    expect(await tenantOf({ tenant: tenant.name })).toMatchObject({ name: tenant.name, login: person.login });
  });
});
