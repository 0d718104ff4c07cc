import { expect } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';

/**
 * Test helpers of the marketplace tests: a marketplace entry shaped as the Maestrano
 * document's (paths of `maestrano-dev`), whose app is `appUrl`.
 */

/** The document's first marketplace entry, with the app at `appUrl`. */
export function documentMarketplace(appUrl: string, name = 'maestrano', environment = 'demo-app') {
  const suffix = name === 'maestrano' ? 'maestrano-dev' : 'maestrano-uat';
  return {
    marketplace: name,
    nid: 'demo-app-production',
    environment,
    app: { host: appUrl },
    sso: { idm: appUrl, init_path: `/maestrano/auth/saml/init/${suffix}`, consume_path: `/maestrano/auth/saml/consume/${suffix}` },
    webhooks: {
      account: {
        group_path: `/maestrano/account/groups/:id/${suffix}`,
        group_user_path: `/maestrano/account/groups/:group_id/users/:id/${suffix}`,
      },
      connec: {
        external_ids: true,
        initialization_path: null,
        notification_path: `/maestrano/connec/notifications/${suffix}`,
        subscriptions: null,
      },
    },
    connec: { host: 'https://api-connec.maestrano.com', base_path: '/api/v2', timeout: 300 },
  };
}

/** A created marketplace with its one-time credentials. */
export interface CreatedMarketplace {
  id: string;
  name: string;
  apiId: string;
  apiKey: string;
  environment: { key: string; secret: string } | null;
  /** An API client sending `api.id:api.key` as HTTP Basic (the SDKs' account API calls). */
  account: ApiClient;
}

/** An API client sending HTTP Basic `id:secret` with every request. */
export function basicClient(url: string, id: string, secret: string): ApiClient {
  const plain = apiClient(url);
  const auth = (headers: Record<string, string> = {}) => ({
    authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    accept: 'application/json',
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

/** Creates a marketplace of `product` through the native API. */
export async function createMarketplace(
  landlord: TestLandlord,
  product: string,
  body: Record<string, unknown>,
): Promise<CreatedMarketplace> {
  const created = await landlord.admin.post(`/v1/products/${product}/marketplaces`, body);
  if (created.status !== 201) throw new Error(`marketplace: ${created.status} ${created.text}`);
  const data = created.body.data;
  return {
    id: data.id,
    name: data.marketplace,
    apiId: data.apiId,
    apiKey: data.apiKey,
    environment: data.environmentCredentials,
    account: basicClient(landlord.url, data.apiId, data.apiKey),
  };
}

/** Creates a group of the marketplace through the native API; returns its uid and tenant. */
export async function createGroup(landlord: TestLandlord, marketplace: string, body: Record<string, unknown> = {}) {
  const created = await landlord.admin.post(`/v1/marketplaces/${marketplace}/groups`, {
    name: 'Logistics Department - Sales',
    email: 'cld@example.com',
    currency: 'AUD',
    timezone: 'America/Los_Angeles',
    country: 'US',
    city: 'Los Angeles',
    hasCreditCard: true,
    ...body,
  });
  if (created.status !== 201) throw new Error(`group: ${created.status} ${created.text}`);
  return created.body.data as { uid: string; tenant: { id: string; name: string } };
}

/** Adds a user to a group through the native API; returns its uid. */
export async function addUser(landlord: TestLandlord, marketplace: string, group: string, body: Record<string, unknown>) {
  const created = await landlord.admin.post(`/v1/marketplaces/${marketplace}/groups/${group}/users`, {
    name: 'John',
    surname: 'Doe',
    country: 'AU',
    role: 'Admin',
    ...body,
  });
  if (created.status !== 201) throw new Error(`user: ${created.status} ${created.text}`);
  return created.body.data as { uid: string; email: string };
}

/**
 * A product whose backend (at `backendUrl`) takes every lifecycle call in response mode, a marketplace of it in
 * the document's shape, and one group of that marketplace brought live: what the notice crash tests start from.
 */
export async function liveGroupOnMarketplace(admin: ApiClient, backendUrl: string, product: { name: string; displayName: string }) {
  const events = ['creation', 'activation', 'deactivation', 'deletion'];
  const created = await admin.post('/v1/products', {
    ...product,
    webhooks: Object.fromEntries(events.map((event) => [event, `${backendUrl}/api/integration/{name}/${event}`])),
    provisioning: { mode: 'response', maxAttempts: 50 },
  });
  expect(created.status, created.text).toBe(201);
  const marketplace = await admin.post(`/v1/products/${product.name}/marketplaces`, documentMarketplace(backendUrl));
  expect(marketplace.status, marketplace.text).toBe(201);
  const groups = `/v1/marketplaces/${marketplace.body.data.id}/groups`;
  const group = (await admin.post(groups, { name: 'Sales', currency: 'AUD' })).body.data;
  await eventually(async () =>
    (await admin.get(`/v1/tenants/${group.tenant.name}`)).body.data.status === 'created_as_active' ? true : undefined,
  );
  return { groups, group };
}
