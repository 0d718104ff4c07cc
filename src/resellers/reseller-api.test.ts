import { createRemoteJWKSet, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';

// The Sharespine document's onboarding flow, request by request, as a reseller sends it.

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let reseller: ApiClient;
let rival: ApiClient;

interface Credentials {
  code: string;
  username: string;
  password: string;
}

/** An API client that sends the reseller's Basic credentials and X-Reseller code, as in the document's curl lines. */
function asReseller(credentials: Credentials): ApiClient {
  const plain = apiClient(landlord.url);
  const auth = (headers: Record<string, string> = {}) => ({
    authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
    'x-reseller': credentials.code,
    'user-agent': 'my-app/1.0 (YOURADDRESS@example.com)',
    ...headers,
  });
  return {
    get: (path, headers) => plain.get(path, auth(headers)),
    delete: (path, headers) => plain.delete(path, auth(headers)),
    post: (path, body, headers) => plain.post(path, body, auth(headers)),
    put: (path, body, headers) => plain.put(path, body, auth(headers)),
    patch: (path, body, headers) => plain.patch(path, body, auth(headers)),
    raw: (method, path, body, headers) => plain.raw(method, path, body, auth(headers)),
  };
}

async function newReseller(code: string, productName = product.name): Promise<Credentials> {
  const created = await landlord.admin.post('/v1/resellers', { code, name: `Reseller ${code}`, product: productName });
  expect(created.status).toBe(201);
  return created.body.data;
}

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url, 'https://my.env.plugboard.example/_tokenlogin');
  reseller = asReseller(await newReseller('acme-resale'));
  rival = asReseller(await newReseller('rival'));
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const tenantBody = (customerReference: string) => ({
  customerReference,
  active: true,
  fullName: 'My Customer AB',
  email: 'owner@mycustomer.example',
  defaultLanguage: 'swe',
  languages: ['swe'],
  options: ['string'],
});

describe('the document’s reseller flow, end to end', () => {
  it('creates the tenant, a user and a connection, and signs the user in with a login link the product verifies', async () => {
    // 1. Create user environment (tenant).
    const tenant = await reseller.post('/reseller/tenant', tenantBody('MyCustomer'));
    expect(tenant.status).toBe(201);
    expect(tenant.body).toEqual({ codeName: 'acmeresalemycustomer-1' });
    const { codeName } = tenant.body;
    // It goes through the lifecycle: the product's backend gets the creation request.
    const call = await backend.waitFor((received) => received.path === `/api/integration/${codeName}/creation`);
    expect(call.body).toMatchObject({ tenantName: codeName });
    await waitForStatus(landlord, codeName, 'created_as_active');

    // 2. Create tenant user.
    const user = await reseller.post(`/reseller/tenant/${codeName}/user`, {
      login: 'Wizard.User',
      fullName: 'Wizard User',
      email: 'wizard@mycustomer.example',
      permissions: ['tenant_statistics'],
      defaultLanguage: 'swe',
    });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({
      login: 'Wizard.User',
      fullName: 'Wizard User',
      permissions: ['tenant_statistics'],
      status: 'active',
    });

    // 3. Create an API connection.
    const connection = await reseller.post(`/reseller/tenant/${codeName}/connection`, {
      active: true,
      name: 'API',
      type: 'api',
      configuration: {},
    });
    expect(connection.status).toBe(201);
    expect(connection.body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(connection.body.type).toBe('api');
    const verified = await product.client.post('/v1/connections/verify', { id: connection.body.id, secret: connection.body.secret });
    expect(verified.body.data).toMatchObject({ valid: true, tenant: { name: codeName } });

    // 4. Get a URL that signs the user in automatically.
    const link = await reseller.post(`/reseller/tenant/${codeName}/login/Wizard.User`, { path: '/' });
    expect(link.status).toBe(200);
    expect(link.body).toEqual({
      path: '/',
      loginUrl: expect.stringMatching(/\/login\/llln_/),
      expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });

    // 5. Send the user to the URL: Landlord sends the browser on to the product with an assertion…
    const opened = await request(link.body.loginUrl);
    await opened.body.text();
    expect(opened.statusCode).toBe(303);
    const location = new URL(String(opened.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe('https://my.env.plugboard.example/_tokenlogin');
    // …which the product verifies with Landlord's public keys.
    const jwks = createRemoteJWKSet(new URL(`${landlord.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(location.searchParams.get('assertion') ?? '', jwks, { issuer: 'landlord', audience: product.name });
    expect(payload).toMatchObject({
      tenant: codeName,
      login: 'Wizard.User',
      email: 'wizard@mycustomer.example',
      permissions: ['tenant_statistics'],
      path: '/',
    });
    expect(typeof payload.jti).toBe('string');
    const reused = await request(link.body.loginUrl);
    expect(reused.statusCode).toBe(410);
    expect(await reused.body.text()).toContain('used already');

    // The reads a reseller needs.
    const read = await reseller.get(`/reseller/tenant/${codeName}`);
    expect(read.body).toMatchObject({
      codeName,
      customerReference: 'MyCustomer',
      active: true,
      status: 'created_as_active',
      fullName: 'My Customer AB',
      languages: ['swe'],
      options: ['string'],
    });
    expect((await reseller.get(`/reseller/tenant/${codeName}/user`)).body.map((u: { login: string }) => u.login)).toEqual(['Wizard.User']);
    const connections = await reseller.get(`/reseller/tenant/${codeName}/connection`);
    expect(connections.body).toEqual([expect.objectContaining({ id: connection.body.id, type: 'api', active: true })]);
    expect(connections.text).not.toContain(connection.body.secret);
  });

  it('numbers code names per customer reference, and deactivates and deletes through the lifecycle', async () => {
    const first = (await reseller.post('/reseller/tenant', tenantBody('Second Shop!'))).body.codeName;
    const second = (await reseller.post('/reseller/tenant', tenantBody('second-shop'))).body.codeName;
    expect([first, second]).toEqual(['acmeresalesecondshop-1', 'acmeresalesecondshop-2']);
    await waitForStatus(landlord, first, 'created_as_active');
    await waitForStatus(landlord, second, 'created_as_active');

    // The customer cancels a live tenant: it is deactivated, then deleted, each step at the backend.
    const cancelled = await reseller.delete(`/reseller/tenant/${first}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ codeName: first, active: false });
    await backend.waitFor((received) => received.path === `/api/integration/${first}/deactivation`);
    await backend.waitFor((received) => received.path === `/api/integration/${first}/deletion`);
    await waitForStatus(landlord, first, 'deleted');
    expect((await reseller.get(`/reseller/tenant/${first}`)).body).toMatchObject({ status: 'deleted', active: false });
    const history = await landlord.admin.get(`/v1/tenants/${first}/history?kind=transition`);
    // The product answers in `response` mode: each call's 2xx completes its step.
    const steps = history.body.data.map((entry: { action: string; actor: { type: string } }) => [entry.action, entry.actor.type]);
    expect(steps.slice(2)).toEqual([
      ['deactivate', 'reseller'],
      ['call_completed', 'system'],
      ['delete', 'system'],
      ['call_completed', 'system'],
    ]);

    // Deactivated first, then deleted while the deactivation still runs: the deletion follows it.
    const off = await reseller.put(`/reseller/tenant/${second}`, { active: false, languages: ['swe', 'eng'] });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ active: false, languages: ['swe', 'eng'] });
    expect((await reseller.delete(`/reseller/tenant/${second}`)).status).toBe(200);
    await backend.waitFor((received) => received.path === `/api/integration/${second}/deletion`);
    await waitForStatus(landlord, second, 'deleted');
  });

  it('records a tenant created with active: false without setting it up, until made active', async () => {
    const codeName = (await reseller.post('/reseller/tenant', { ...tenantBody('Later'), active: false })).body.codeName;
    expect((await reseller.get(`/reseller/tenant/${codeName}`)).body).toMatchObject({ active: false, status: 'record_created' });
    expect(backend.requests.some((received) => received.path.includes(`/${codeName}/`))).toBe(false);
    const on = await reseller.patch(`/reseller/tenant/${codeName}`, { active: true });
    expect(on.body.active).toBe(true);
    await waitForStatus(landlord, codeName, 'created_as_active');
  });
});

describe('reseller access', () => {
  it('answers 401 for anything missing or wrong, revealing nothing', async () => {
    const codeName = (await reseller.post('/reseller/tenant', tenantBody('locked'))).body.codeName;
    const noAuth = await apiClient(landlord.url).get('/reseller/tenant', { 'x-reseller': 'acme-resale' });
    const good = await landlord.admin.post('/v1/resellers', { code: 'checker', name: 'Checker', product: product.name });
    const { username, password } = good.body.data;
    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const attempts = [
      noAuth,
      await apiClient(landlord.url).get('/reseller/tenant', { authorization: basic(username, password) }),
      await apiClient(landlord.url).get('/reseller/tenant', { authorization: basic(username, `${password}x`), 'x-reseller': 'checker' }),
      await apiClient(landlord.url).get('/reseller/tenant', { authorization: basic(username, password), 'x-reseller': 'acme-resale' }),
      await apiClient(landlord.url).get(`/reseller/tenant/${codeName}`, {
        authorization: basic(username, password),
        'x-reseller': 'nobody',
      }),
      await landlord.admin.get('/reseller/tenant', { 'x-reseller': 'checker' }),
      await apiClient(landlord.url).post('/reseller/tenant', { bogus: true }, { authorization: basic('x', 'y'), 'x-reseller': 'checker' }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status).toBe(401);
      expect(attempt.body).toEqual({ message: 'Unauthorized' });
    }
    expect(
      (await apiClient(landlord.url).get('/reseller/tenant', { authorization: basic(username, password), 'x-reseller': 'checker' })).status,
    ).toBe(200);
    await landlord.admin.delete('/v1/resellers/checker');
    expect(
      (await apiClient(landlord.url).get('/reseller/tenant', { authorization: basic(username, password), 'x-reseller': 'checker' })).status,
    ).toBe(401);
  });

  it("cannot see or touch another reseller's tenants (404)", async () => {
    const codeName = (await reseller.post('/reseller/tenant', tenantBody('private'))).body.codeName;
    await waitForStatus(landlord, codeName, 'created_as_active');
    await reseller.post(`/reseller/tenant/${codeName}/user`, { login: 'owner', fullName: 'Owner', email: 'owner@private.example' });
    const attempts = [
      await rival.get(`/reseller/tenant/${codeName}`),
      await rival.get(`/reseller/tenant/${codeName}/user`),
      await rival.get(`/reseller/tenant/${codeName}/connection`),
      await rival.put(`/reseller/tenant/${codeName}`, { active: false }),
      await rival.delete(`/reseller/tenant/${codeName}`),
      await rival.post(`/reseller/tenant/${codeName}/user`, { login: 'spy', fullName: 'Spy', email: 'spy@example.com' }),
      await rival.post(`/reseller/tenant/${codeName}/connection`, { name: 'spy' }),
      await rival.post(`/reseller/tenant/${codeName}/login/owner`, { path: '/' }),
    ];
    for (const attempt of attempts) expect(attempt.status).toBe(404);
    expect(attempts[0]?.body).toEqual({ message: `No tenant "${codeName}"` });
    expect((await rival.get('/reseller/tenant')).body.map((t: { codeName: string }) => t.codeName)).not.toContain(codeName);
    expect((await reseller.get(`/reseller/tenant/${codeName}`)).body.status).toBe('created_as_active');
    // Not even a tenant the native API created for the same product.
    const native = await landlord.admin.post('/v1/tenants', { product: product.name, name: 'native-one', displayName: 'Native' });
    expect(native.status).toBe(201);
    expect((await reseller.get('/reseller/tenant/native-one')).status).toBe(404);
  });
});

describe('bad input to the reseller API: a clear 4xx, nothing half-written', () => {
  it('names the problem in a plain JSON message', async () => {
    const codeName = (await reseller.post('/reseller/tenant', tenantBody('inputs'))).body.codeName;
    await waitForStatus(landlord, codeName, 'created_as_active');
    const user = { login: 'dup', fullName: 'Dup', email: 'dup@example.com' };
    expect((await reseller.post(`/reseller/tenant/${codeName}/user`, user)).status).toBe(201);
    const duplicate = await reseller.post(`/reseller/tenant/${codeName}/user`, { ...user, email: 'other@example.com' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.message).toContain('login');
    const malformed = await reseller.post(`/reseller/tenant/${codeName}/user`, { ...user, login: 'x', email: 'nope' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toContain('email');
    const permission = await reseller.post(`/reseller/tenant/${codeName}/user`, {
      ...user,
      login: 'y',
      email: 'y@example.com',
      permissions: ['root'],
    });
    expect(permission.status).toBe(400);
    expect(permission.body.message).toContain('root');
    const users = (await reseller.get(`/reseller/tenant/${codeName}/user`)).body.map((u: { login: string }) => u.login);
    expect(users).toEqual(['dup']);
    const stray = await landlord.node.services.db
      .selectFrom('users')
      .select('email')
      .where('email', 'in', ['other@example.com', 'y@example.com'])
      .execute();
    expect(stray).toEqual([]);

    const unknown = await reseller.post('/reseller/tenant/no-such-tenant/user', user);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: 'No tenant "no-such-tenant"' });
    const reference = await reseller.post('/reseller/tenant', tenantBody('!!!'));
    expect(reference.status).toBe(400);
    expect(reference.body.message).toContain('customerReference');
    expect((await reseller.post('/reseller/tenant', { ...tenantBody('x'), extra: 1 })).status).toBe(400);
    expect((await reseller.get('/reseller/nothing')).body).toEqual({ message: 'No endpoint GET /reseller/nothing' });
  });

  it('shows an expired login link as an error page', async () => {
    const codeName = (await reseller.post('/reseller/tenant', tenantBody('expiry'))).body.codeName;
    await waitForStatus(landlord, codeName, 'created_as_active');
    await reseller.post(`/reseller/tenant/${codeName}/user`, { login: 'late', fullName: 'Late', email: 'late@example.com' });
    const link = await reseller.post(`/reseller/tenant/${codeName}/login/late`, { path: '/' });
    await landlord.node.services.db
      .updateTable('login_links')
      .set({ expires_at: new Date(Date.now() - 1) })
      .execute();
    const opened = await request(link.body.loginUrl);
    expect(opened.statusCode).toBe(410);
    expect(opened.headers['content-type']).toContain('text/html');
    expect(await opened.body.text()).toContain('expired');
  });
});
