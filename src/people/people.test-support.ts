import { eventually } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';

/**
 * Test helpers of the people, connection, login-link and reseller tests: a product whose
 * backend completes every step in its answer (`provisioning.mode: response`), so tenants
 * become live through the real lifecycle, with Roomle's permissions defined.
 */

/** Roomle's rights, as a product would define them. */
export const ROOMLE_PERMISSIONS = ['tenant_management', 'user_management', 'tenant_payment', 'tenant_statistics'];

/** A product set up for people tests, and a client token of it. */
export interface PeopleProduct {
  id: string;
  name: string;
  /** Authenticated as the product's own client (role `client`). */
  client: ApiClient;
}

/**
 * Creates a product whose webhooks point at `backendUrl` (a simulator answering 200),
 * with the Roomle permissions, a sign-in URL, and a client.
 */
export async function peopleProduct(
  landlord: TestLandlord,
  backendUrl: string,
  signInUrl = 'https://app.example/sign-in',
): Promise<PeopleProduct> {
  const events = ['creation', 'activation', 'deactivation', 'deletion'];
  const created = await landlord.admin.post('/v1/products', {
    name: uniqueName('people'),
    displayName: 'People product',
    webhooks: Object.fromEntries(events.map((event) => [event, `${backendUrl}/api/integration/{name}/${event}`])),
    provisioning: { mode: 'response' },
    signInUrl,
  });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  const product = created.body.data;
  for (const name of ROOMLE_PERMISSIONS) {
    const permission = await landlord.admin.post(`/v1/products/${product.name}/permissions`, { name, description: name });
    if (permission.status !== 201) throw new Error(`permission: ${permission.status} ${permission.text}`);
  }
  const client = await landlord.admin.post(`/v1/products/${product.name}/clients`, { name: 'backend' });
  const token = await apiClient(landlord.url).post('/v1/auth/token', {
    grant_type: 'client_credentials',
    client_id: client.body.data.clientId,
    client_secret: client.body.data.clientSecret,
  });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${token.text}`);
  return { id: product.id, name: product.name, client: apiClient(landlord.url, token.body.access_token) };
}

/** Waits until the tenant has `status`. */
export async function waitForStatus(landlord: TestLandlord, tenant: string, status: string): Promise<void> {
  await eventually(
    async () => ((await landlord.admin.get(`/v1/tenants/${tenant}`)).body.data?.status === status ? true : undefined),
    10_000,
    `${tenant} → ${status}`,
  );
}

/** Creates a tenant of the product and waits until the backend has created it (`created_as_active`). */
export async function liveTenant(landlord: TestLandlord, product: string): Promise<{ id: string; name: string }> {
  const created = await landlord.admin.post('/v1/tenants', { product, name: uniqueName('tenant'), displayName: 'A tenant' });
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${created.text}`);
  await waitForStatus(landlord, created.body.data.name, 'created_as_active');
  return { id: created.body.data.id, name: created.body.data.name };
}

/** An API client that authenticates as a connection (HTTP Basic `<id>:<secret>`). */
export function asConnection(landlord: TestLandlord, connection: { id: string; secret: string }): ApiClient {
  const basic = Buffer.from(`${connection.id}:${connection.secret}`).toString('base64');
  const plain = apiClient(landlord.url);
  const withAuth = (headers: Record<string, string> = {}) => ({ authorization: `Basic ${basic}`, ...headers });
  return {
    get: (path, headers) => plain.get(path, withAuth(headers)),
    delete: (path, headers) => plain.delete(path, withAuth(headers)),
    post: (path, body, headers) => plain.post(path, body, withAuth(headers)),
    put: (path, body, headers) => plain.put(path, body, withAuth(headers)),
    patch: (path, body, headers) => plain.patch(path, body, withAuth(headers)),
    raw: (method, path, body, headers) => plain.raw(method, path, body, withAuth(headers)),
  };
}
