import { createApiKey } from '../../src/access/api-keys.service.ts';
import type { ApiClient } from './http.ts';
import type { TestLandlord } from './landlord.ts';

let counter = 0;
/** A name no other test in the file uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Creates a product through the API and returns its view. */
export async function createProduct(admin: ApiClient, overrides: Record<string, unknown> = {}) {
  const response = await admin.post('/v1/products', { name: uniqueName('product'), displayName: 'A product', ...overrides });
  if (response.status !== 201) throw new Error(`product create failed: ${response.status} ${response.text}`);
  return response.body.data;
}

/** Creates an operator key confined to one product and returns the secret. */
export async function productAdminKey(landlord: TestLandlord, product: string): Promise<string> {
  const { db } = landlord.node.services;
  const created = await db
    .transaction()
    .execute((tx) =>
      createApiKey(tx, { type: 'admin_key', id: 'test', requestId: null }, { name: 'test', role: 'product_admin', product }),
    );
  return created.key;
}

/** Creates and publishes a specification of a product. */
export async function createSpecification(admin: ApiClient, product: string, spec: Record<string, unknown>) {
  const created = await admin.post(`/v1/products/${product}/specifications`, { displayName: String(spec.name), ...spec });
  if (created.status !== 201) throw new Error(`specification create failed: ${created.status} ${created.text}`);
  const published = await admin.post(`/v1/products/${product}/specifications/${spec.name}/publish`);
  if (published.status !== 200) throw new Error(`specification publish failed: ${published.status} ${published.text}`);
  return published.body.data;
}

/** Creates a plan with one price, both published unless told otherwise; returns the price. */
export async function createPlanPrice(admin: ApiClient, product: string, options: { publish?: boolean; price?: string } = {}) {
  const plan = uniqueName('plan');
  const price = options.price ?? uniqueName('price');
  const planResponse = await admin.post(`/v1/products/${product}/plans`, { name: plan, displayName: 'Plan' });
  if (planResponse.status !== 201) throw new Error(`plan create failed: ${planResponse.status} ${planResponse.text}`);
  const priceResponse = await admin.post(`/v1/products/${product}/plans/${plan}/prices`, {
    name: price,
    cycle: 'month',
    amount: 1000,
    currency: 'EUR',
  });
  if (priceResponse.status !== 201) throw new Error(`price create failed: ${priceResponse.status} ${priceResponse.text}`);
  if (options.publish !== false) {
    await admin.post(`/v1/products/${product}/plans/${plan}/publish`);
    await admin.post(`/v1/products/${product}/plans/${plan}/prices/${price}/publish`);
  }
  return { plan, price, id: priceResponse.body.data.id as string };
}

/** Creates a tenant through the API and returns its view. */
export async function createTenant(client: ApiClient, product: string, overrides: Record<string, unknown> = {}) {
  const response = await client.post('/v1/tenants', { product, name: uniqueName('tenant'), displayName: 'A tenant', ...overrides });
  if (response.status !== 201) throw new Error(`tenant create failed: ${response.status} ${response.text}`);
  return response.body.data;
}
