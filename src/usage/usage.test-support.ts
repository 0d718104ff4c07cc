import { uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, type ApiResponse, apiClient } from '../../test/helpers/http.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';
import type { manualClock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';

type ManualClock = ReturnType<typeof manualClock>;

/**
 * Test helpers of the usage tests: a product with metered features on one plan, its
 * client, and live tenants subscribed to that plan.
 */

/** A feature of the usage test plan: name → plan feature settings. */
export type PlanFeatureSpec = Record<string, unknown> & { type?: 'number' | 'boolean' };

/** A product set up for usage tests. */
export interface UsageProduct {
  id: string;
  name: string;
  /** The product's own client (role `client`). */
  client: ApiClient;
  /** That client's bearer token. */
  token: string;
  plan: string;
  price: string;
}

/** Creates a product with Roomle's permissions, the features given on one published plan and price, and a client. */
export async function usageProduct(
  landlord: TestLandlord,
  features: Record<string, PlanFeatureSpec>,
  options: { cycle?: string } = {},
): Promise<UsageProduct> {
  const { admin } = landlord;
  const created = await admin.post('/v1/products', { name: uniqueName('usage'), displayName: 'Metered product' });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  const product = created.body.data;
  for (const name of ['tenant_statistics', 'tenant_payment', 'user_management']) {
    await must(admin.post(`/v1/products/${product.name}/permissions`, { name, description: name }), 201);
  }
  const plan = uniqueName('plan');
  const price = uniqueName('price');
  await must(admin.post(`/v1/products/${product.name}/plans`, { name: plan, displayName: 'Plan' }), 201);
  await must(
    admin.post(`/v1/products/${product.name}/plans/${plan}/prices`, {
      name: price,
      cycle: options.cycle ?? 'month',
      amount: 1000,
      currency: 'EUR',
    }),
    201,
  );
  for (const [name, spec] of Object.entries(features)) {
    const { type = 'number', ...attach } = spec;
    await must(admin.post(`/v1/products/${product.name}/features`, { name, displayName: name, type }), 201);
    await must(admin.post(`/v1/products/${product.name}/plans/${plan}/features`, { feature: name, ...attach }), 201);
  }
  await must(admin.post(`/v1/products/${product.name}/plans/${plan}/publish`), 200);
  await must(admin.post(`/v1/products/${product.name}/plans/${plan}/prices/${price}/publish`), 200);
  const client = await must(admin.post(`/v1/products/${product.name}/clients`, { name: 'backend' }), 201);
  const token = await must(
    apiClient(landlord.url).post('/v1/auth/token', {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
    200,
    true,
  );
  return {
    id: product.id,
    name: product.name,
    client: apiClient(landlord.url, token.access_token),
    token: token.access_token,
    plan,
    price,
  };
}

/**
 * An active tenant of the product, subscribed to its price from `since` (the clock's now by
 * default) through the subscriptions API: the test's manual clock is moved to `since` for it.
 */
export async function subscribedTenant(
  landlord: TestLandlord,
  product: UsageProduct,
  options: { since?: Date; status?: string; clock?: ManualClock; subscribe?: boolean } = {},
): Promise<{ id: string; name: string }> {
  const { db, clock } = landlord.node.services;
  const id = newId();
  const name = uniqueName('tenant');
  const now = clock.now();
  await db
    .insertInto('tenants')
    .values({
      id,
      product_id: product.id,
      name,
      display_name: 'A tenant',
      status: options.status ?? 'active',
      specifications: '{}',
      metadata: '{}',
      created_at: options.since ?? now,
      updated_at: options.since ?? now,
    })
    .execute();
  if (options.subscribe === false) return { id, name };
  if (options.since && !options.clock) throw new Error('subscribing in the past needs the manual clock');
  try {
    if (options.since) options.clock?.set(options.since);
    await must(landlord.admin.post(`/v1/tenants/${id}/subscription`, { price: product.price }), 201);
  } finally {
    options.clock?.set(now);
  }
  return { id, name };
}

/** One usage event with a fresh id. */
export function usageEvent(tenant: string, feature: string, quantity: number, timestamp: Date, extra: Record<string, unknown> = {}) {
  return { id: `evt-${newId()}`, tenant, feature, quantity, timestamp: timestamp.toISOString(), ...extra };
}

/** The events of a type about a tenant, oldest first. */
export async function eventsOf(landlord: TestLandlord, tenantId: string, type: string) {
  return landlord.node.services.db
    .selectFrom('events')
    .select(['type', 'data'])
    .where('tenant_id', '=', tenantId)
    .where('type', '=', type)
    .orderBy('tenant_seq')
    .execute();
}

async function must(response: Promise<ApiResponse>, status: number, raw = false) {
  const answer = await response;
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
  return raw ? answer.body : answer.body?.data;
}

/**
 * Seeds a spawned Landlord through its admin API for the crash and outage tests: product `metered` with a
 * number feature `api_calls` on a published plan `pro` (price `pro-monthly`, limit far above any test), and
 * tenant `acme` subscribed to it. Answers the tenant.
 */
export async function seedMeteredTenant(admin: ApiClient): Promise<{ id: string; name: string }> {
  const setup = async (path: string, body: unknown) => {
    const answer = await admin.post(path, body);
    if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
    return answer.body.data;
  };
  await setup('/v1/products', { name: 'metered', displayName: 'Metered' });
  await setup('/v1/products/metered/features', { name: 'api_calls', displayName: 'API calls', type: 'number' });
  await setup('/v1/products/metered/plans', { name: 'pro', displayName: 'Pro' });
  await setup('/v1/products/metered/plans/pro/prices', { name: 'pro-monthly', cycle: 'month', amount: 100, currency: 'EUR' });
  await setup('/v1/products/metered/plans/pro/features', { feature: 'api_calls', limit: 1_000_000_000, reset: 'month' });
  await setup('/v1/products/metered/plans/pro/publish', {});
  await setup('/v1/products/metered/plans/pro/prices/pro-monthly/publish', {});
  const tenant = await setup('/v1/tenants', { product: 'metered', name: 'acme', displayName: 'Acme' });
  await setup('/v1/tenants/acme/subscription', { price: 'pro-monthly' });
  return tenant;
}
