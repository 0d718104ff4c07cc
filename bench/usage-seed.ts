import { withClient } from './database.ts';
import { ADMIN_KEY, expectCall } from './landlord.ts';
import { inParallel } from './stats.ts';

/** What the usage and entitlements scenarios meter: one product, one plan, tenants subscribed to it. */
export interface UsageSeed {
  productId: string;
  featureId: string;
  /** Client bearer token of the product's backend. */
  bearer: string;
  tenants: { id: string; name: string; windowStart: string }[];
}

/**
 * A product `bench` with a metered feature `api_calls` (monthly, hard limit far away) on a
 * published plan, `count` tenants subscribed to it through the API (made live in SQL), and
 * a client token; each tenant's current window is read back through the entitlements API.
 */
export async function seedUsage(url: string, databaseUrl: string, count: number): Promise<UsageSeed> {
  const token = { token: ADMIN_KEY };
  const post = (path: string, body: unknown, status = 201) => expectCall(status, url, 'POST', path, { ...token, body });
  const product = await post('/v1/products', { name: 'bench', displayName: 'Bench', provisioning: { autoSendCreation: false } });
  const feature = await post('/v1/products/bench/features', { name: 'api_calls', displayName: 'API calls', type: 'number' });
  await post('/v1/products/bench/plans', { name: 'pro', displayName: 'Pro' });
  await post('/v1/products/bench/plans/pro/prices', { name: 'pro-monthly', cycle: 'month', amount: 1000, currency: 'EUR' });
  await post('/v1/products/bench/plans/pro/features', {
    feature: 'api_calls',
    limit: 1_000_000_000_000,
    reset: 'month',
    enforcement: 'hard',
  });
  await post('/v1/products/bench/plans/pro/publish', {}, 200);
  await post('/v1/products/bench/plans/pro/prices/pro-monthly/publish', {}, 200);
  const names = Array.from({ length: count }, (_, index) => `bench-${index}`);
  await inParallel(names, 8, async (name) => {
    await post('/v1/tenants', { product: 'bench', name, displayName: name });
    await post(`/v1/tenants/${name}/subscription`, { price: 'pro-monthly' });
  });
  await withClient(databaseUrl, (client) => client.query("update tenants set status = 'active' where product_id = $1", [product.data.id]));
  const client = await post('/v1/products/bench/clients', { name: 'backend' });
  const issued = await expectCall(200, url, 'POST', '/v1/auth/token', {
    body: { grant_type: 'client_credentials', client_id: client.data.clientId, client_secret: client.data.clientSecret },
  });
  const tenants: UsageSeed['tenants'] = [];
  for (const name of names) {
    const read = await expectCall(200, url, 'GET', `/v1/tenants/${name}/entitlements`, token);
    const entry = read.data.features.find((candidate: { feature: string }) => candidate.feature === 'api_calls');
    tenants.push({ id: read.data.tenant.id, name, windowStart: entry.windowStart });
  }
  return { productId: product.data.id, featureId: feature.data.id, bearer: `Bearer ${issued.access_token}`, tenants };
}
