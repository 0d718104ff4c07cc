import { uniqueName } from '../../test/helpers/fixtures.ts';
import type { ApiClient } from '../../test/helpers/http.ts';

/** A published price of a new plan of `product`: `amount` minor units per `cycle`. */
export async function publishedPrice(
  admin: ApiClient,
  product: string,
  amount: number,
  options: { cycle?: string; currency?: string; publish?: boolean } = {},
): Promise<{ id: string; name: string }> {
  const plan = uniqueName('plan');
  const name = uniqueName('price');
  const planResponse = await admin.post(`/v1/products/${product}/plans`, { name: plan, displayName: 'Plan' });
  if (planResponse.status !== 201) throw new Error(`plan: ${planResponse.status} ${planResponse.text}`);
  const priceResponse = await admin.post(`/v1/products/${product}/plans/${plan}/prices`, {
    name,
    cycle: options.cycle ?? 'month',
    amount,
    currency: options.currency ?? 'EUR',
  });
  if (priceResponse.status !== 201) throw new Error(`price: ${priceResponse.status} ${priceResponse.text}`);
  if (options.publish !== false) {
    await admin.post(`/v1/products/${product}/plans/${plan}/publish`);
    await admin.post(`/v1/products/${product}/plans/${plan}/prices/${name}/publish`);
  }
  return { id: priceResponse.body.data.id, name };
}
