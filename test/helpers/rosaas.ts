import type { BackendSimulator } from './backend-simulator.ts';
import { uniqueName } from './fixtures.ts';
import { type ApiClient, apiClient } from './http.ts';
import type { TestLandlord } from './landlord.ts';

/** A product wired to a simulated backend, with a RoSaaS-authenticated client of it. */
export interface WiredProduct {
  product: { id: string; name: string };
  apiKey: string;
  /** Authenticated with a token from `POST /api/identity/apps/v1/auth`, as a RoSaaS backend is. */
  backend: ApiClient;
  clientId: string;
  clientSecret: string;
}

export const ROSAAS = '/api/management/apps/v1';

/**
 * Creates a product whose every webhook points at the simulator (RoSaaS-style paths),
 * a client for it, and logs the client in through the RoSaaS auth endpoint.
 */
export async function wireProduct(
  landlord: Pick<TestLandlord, 'admin' | 'url'>,
  backend: BackendSimulator,
  provisioning: Record<string, unknown> = {},
): Promise<WiredProduct> {
  const apiKey = `backend-key-${uniqueName('k')}`;
  const events = ['creation', 'activation', 'deactivation', 'deletion', 'unavailable', 'upgrade', 'downgrade', 'reset'];
  const created = await landlord.admin.post('/v1/products', {
    name: uniqueName('wired'),
    displayName: 'Wired product',
    apiKey,
    webhooks: Object.fromEntries(events.map((event) => [event, `${backend.url}/api/integration/{name}/${event}`])),
    provisioning,
  });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  const product = created.body.data;
  const client = await landlord.admin.post(`/v1/products/${product.name}/clients`, { name: 'backend' });
  if (client.status !== 201) throw new Error(`client: ${client.status} ${client.text}`);
  const { clientId, clientSecret } = client.body.data;
  const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', { clientId, clientSecret });
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${auth.text}`);
  return { product, apiKey, backend: apiClient(landlord.url, auth.body.data.token.accessToken), clientId, clientSecret };
}

/** The tenant name in a simulator request path `/api/integration/{name}/{event}`. */
export function tenantOf(path: string): string {
  return decodeURIComponent(path.split('/')[3] ?? '');
}

/** The event in a simulator request path. */
export function eventOf(path: string): string {
  return path.split('/')[4] ?? '';
}
