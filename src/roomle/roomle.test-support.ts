import { importJWK, SignJWT } from 'jose';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { Browser } from '../identity/identity.test-support.ts';
import { type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';

/**
 * Test helpers of the Roomle API tests: a product serving it (its backend completes
 * every step in its answer, so tenants become live through the real lifecycle), a plan
 * per package, users with memberships, and their access tokens.
 */

/** A product serving the Roomle API, with one published monthly price per mapped plan. */
export interface RoomleProduct extends PeopleProduct {
  /** Price names by package: `tenant_basic` → a published price of the plan mapped to it. */
  prices: Record<'tenant_basic' | 'tenant_premium', string>;
}

/** Creates a product, plans `basic` (with the metered feature `renders`) and `premium` with a price each, and turns the Roomle API on. */
export async function roomleProduct(landlord: TestLandlord, backendUrl: string): Promise<RoomleProduct> {
  const product = await peopleProduct(landlord, backendUrl);
  const prices = {} as RoomleProduct['prices'];
  const packages: Record<string, string> = {};
  for (const pkg of ['tenant_basic', 'tenant_premium'] as const) {
    const plan = uniqueName(pkg.replace('tenant_', ''));
    const price = uniqueName('price');
    await must(landlord.admin.post(`/v1/products/${product.name}/plans`, { name: plan, displayName: pkg }), 201);
    await must(
      landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/prices`, {
        name: price,
        cycle: 'month',
        amount: 1000,
        currency: 'EUR',
      }),
      201,
    );
    await must(landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/publish`), 200);
    await must(landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/prices/${price}/publish`), 200);
    if (pkg === 'tenant_basic') {
      await must(
        landlord.admin.post(`/v1/products/${product.name}/features`, { name: 'renders', displayName: 'Renders', type: 'number' }),
        201,
      );
      await must(landlord.admin.post(`/v1/products/${product.name}/plans/${plan}/features`, { feature: 'renders', limit: 100 }), 201);
    }
    prices[pkg] = price;
    packages[plan] = pkg;
  }
  await must(landlord.admin.put(`/v1/products/${product.name}/roomle`, { packages }), 200);
  return { ...product, prices };
}

/** What a Roomle test file starts from: a Landlord, a backend that completes every step, and a product serving the API. */
export interface RoomleSetup {
  landlord: TestLandlord;
  backend: BackendSimulator;
  product: RoomleProduct;
  close(): Promise<void>;
}

/** Starts a file's Landlord, backend simulator and Roomle product; `close()` (in `afterAll`) stops what started. */
export async function startRoomle(options: { env?: Record<string, string> } = {}): Promise<RoomleSetup> {
  const landlord = await startTestLandlord(options);
  const backend = await startBackendSimulator();
  return {
    landlord,
    backend,
    product: await roomleProduct(landlord, backend.url),
    close: async () => {
      await landlord.close();
      await backend.close();
    },
  };
}

/** A tenant's billing profile as a tenant manager enters it (`billingInformation`; its optional `currency` left out). */
export const BILLING_PROFILE = {
  name: 'Ada Buyer',
  company: 'Shop GmbH',
  email: 'billing@shop.example',
  address: { line1: 'Hauptstraße 1', postalCode: '1010', city: 'Wien', country: 'AT' },
  vatId: 'ATU12345678',
};

/** A client acting as a new user of the tenant who holds `permissions`, with the access token Landlord would issue them. */
export async function roomleUserClient(landlord: TestLandlord, product: RoomleProduct, tenantName: string, permissions: string[]) {
  const record = (await must(landlord.admin.get(`/v1/tenants/${tenantName}`), 200)).body.data as { id: string; name: string };
  const user = await roomleUser(landlord, tenantName, permissions);
  return apiClient(landlord.url, await accessToken(landlord, product, record, user));
}

/** Fails with the answer's text unless it has `status`. */
export async function must(response: Promise<Awaited<ReturnType<ApiClient['get']>>>, status: number) {
  const answer = await response;
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
  return answer;
}

/** Creates a tenant through `POST /v2/tenants/` as the super admin and waits until it is live. */
export async function roomleTenant(landlord: TestLandlord, product: RoomleProduct, body: Record<string, unknown> = {}) {
  const created = await must(
    landlord.admin.post('/v2/tenants/', { name: uniqueName('rt'), label: 'A Roomle tenant', product: product.name, ...body }),
    201,
  );
  const tenant = created.body.tenant as { id: number; name: string; apiKey: string };
  await waitForStatus(landlord, tenant.name, 'created_as_active');
  return tenant;
}

/** A user of the tenant (an accepted membership) holding `permissions`. */
export async function roomleUser(landlord: TestLandlord, tenantName: string, permissions: string[], roles: string[] = ['member']) {
  const login = uniqueName('u');
  const email = `${login}@example.com`;
  const added = await must(landlord.admin.post(`/v1/tenants/${tenantName}/users`, { email, login, roles, permissions }), 201);
  if (added.body.data.invitation) {
    await must(
      landlord.as(undefined).post('/v1/invitations/accept', { token: added.body.data.invitation.token, fullName: 'Sam User' }),
      200,
    );
  }
  const read = await must(landlord.admin.get(`/v1/tenants/${tenantName}/users/${login}`), 200);
  return { login, email, id: read.body.data.userId as string, permissions: read.body.data.effectivePermissions as string[] };
}

/**
 * An access token for the user in the tenant, as Landlord's OpenID provider issues it
 * (an `at+jwt` for the product's resource, with the `tenant` claim), signed with the
 * node's own signing key, so the Roomle API verifies it exactly as it verifies a real one.
 */
export async function accessToken(
  landlord: TestLandlord,
  product: { name: string },
  tenant: { id: string; name: string },
  user: { id: string; login: string; permissions: string[] },
  options: { expiresInSeconds?: number } = {},
): Promise<string> {
  const jwks = await landlord.node.services.keyRing.privateJwks();
  const jwk = jwks.find((key) => key.alg === 'EdDSA') ?? jwks[0];
  if (!jwk?.kid || !jwk.alg) throw new Error('no signing key');
  const key = await importJWK(jwk, jwk.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    client_id: 'roomle-test',
    scope: 'openid',
    tenant: {
      id: tenant.id,
      name: tenant.name,
      display_name: tenant.name,
      login: user.login,
      roles: ['member'],
      permissions: user.permissions,
    },
  })
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(landlord.url)
    .setSubject(user.id)
    .setAudience(product.name)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 600))
    .sign(key);
}

/** A client sending the Roomle SDK's headers (`apiKey`, `token`). */
export function roomleClient(landlord: TestLandlord, headers: { apiKey?: string; token?: string }): ApiClient {
  const plain = apiClient(landlord.url);
  const extra = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as Record<string, string>;
  const merged = (more: Record<string, string> = {}) => ({ ...extra, ...more });
  return {
    get: (path, more) => plain.get(path, merged(more)),
    post: (path, body, more) => plain.post(path, body, merged(more)),
    put: (path, body, more) => plain.put(path, body, merged(more)),
    patch: (path, body, more) => plain.patch(path, body, merged(more)),
    delete: (path, more) => plain.delete(path, merged(more)),
    raw: (method, path, body, more) => plain.raw(method, path, body, merged(more)),
  };
}

/**
 * The user's access token the real way: a login link starts a Landlord session, the
 * authorization request asks for the product's resource, the code is exchanged at the
 * token endpoint by a confidential OIDC client of the product.
 */
export async function signedInToken(landlord: TestLandlord, product: { name: string }, tenantName: string, login: string): Promise<string> {
  const redirect = 'https://rp.example/callback';
  const client = await must(
    landlord.admin.post(`/v1/products/${product.name}/oidc-clients`, {
      name: 'Roomle front end',
      type: 'confidential',
      redirectUris: [redirect],
    }),
    201,
  );
  const { clientId, clientSecret } = client.body.data as { clientId: string; clientSecret: string };
  const link = await must(landlord.admin.post(`/v1/tenants/${tenantName}/users/${login}/login-links`, { signIn: 'landlord' }), 201);
  const browser = new Browser(landlord.url);
  await browser.follow(await browser.get(link.body.data.loginUrl));
  const resource = `urn:landlord:product:${product.name}`;
  const query = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: redirect, resource });
  const authorized = await browser.follow(await browser.get(`/oidc/auth?${query}`));
  const code = authorized.location ? new URL(authorized.location).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${authorized.status} ${authorized.location} ${authorized.text.slice(0, 300)}`);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const exchanged = await browser.send(
    'POST',
    '/oidc/token',
    { grant_type: 'authorization_code', code, redirect_uri: redirect, resource },
    {
      authorization: `Basic ${basic}`,
    },
  );
  const token = (JSON.parse(exchanged.text) as { access_token?: string }).access_token;
  if (!token) throw new Error(`token endpoint: ${exchanged.status} ${exchanged.text}`);
  return token;
}
