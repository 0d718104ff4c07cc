import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { clientToken } from '../catalogue/catalogue.test-support.ts';
import { publishedPrice } from '../plan-changes/plan-changes.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { fakePaymentProvider } from './fake-provider.ts';

const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const clock = manualClock(JAN_1);
const SECRET = 'whsec_0123456789abcdef';
let landlord: TestLandlord;

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
});
afterAll(async () => {
  await landlord?.close();
});

/** A product with a price, its provider set as asked, and a tenant subscribed at Jan 1; returns its open invoice. */
async function setUp(collection: 'none' | 'automatic') {
  clock.set(JAN_1);
  const product = await createProduct(landlord.admin);
  const price = await publishedPrice(landlord.admin, product.name, 1000);
  const set = await landlord.admin.put(`/v1/products/${product.name}/payment-provider`, {
    provider: 'fake',
    secret: SECRET,
    collection,
    graceDays: 3,
  });
  expect(set.status).toBe(200);
  expect(set.body.data).toEqual({ productId: product.id, provider: 'fake', collection, graceDays: 3, version: 1 });
  const tenant = await createTenant(landlord.admin, product.name);
  expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: price.name })).status).toBe(201);
  const [invoice] = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
  const provider = fakePaymentProvider({ baseUrl: landlord.url, product: product.name, secret: SECRET, now: () => clock.now() });
  return { product, tenant, invoice, provider };
}

const status = async (tenant: { name: string }) => (await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data.status;

async function subscriptionEvents(tenantId: string) {
  const rows = await landlord.node.services.db
    .selectFrom('events')
    .select('type')
    .where('tenant_id', '=', tenantId)
    .where('type', 'in', ['subscription.past_due', 'subscription.recovered'])
    .orderBy('tenant_seq')
    .execute();
  return rows.map((row) => row.type);
}

describe('the payment-provider seam', () => {
  it('makes a subscription past_due once its invoice is unpaid past the grace period, and a signed payment recovers it', async () => {
    const { tenant, invoice, provider } = await setUp('automatic');
    clock.set(new Date('2027-01-03T23:59:59.000Z'));
    await landlord.node.sweeps.get('collections')?.runNow();
    expect(await status(tenant)).toBe('active');
    clock.set(new Date('2027-01-04T00:00:00.000Z'));
    await eventually(async () => {
      await landlord.node.sweeps.get('collections')?.runNow();
      return (await status(tenant)) === 'past_due' ? true : undefined;
    });

    const partial = await provider.send(provider.payment('evt_1', invoice.id, 400, 'pi_1'));
    expect(partial.status).toBe(200);
    expect(partial.body.data).toEqual({ duplicate: false, applied: true, outcome: 'applied' });
    const resent = await provider.send(provider.payment('evt_1', invoice.id, 400, 'pi_1'));
    expect(resent.body.data).toMatchObject({ duplicate: true, applied: false });
    // The same payment under another event id (a provider retrying differently) is recorded once.
    const again = await provider.send(provider.payment('evt_1b', invoice.id, 400, 'pi_1'));
    expect(again.body.data).toMatchObject({ duplicate: false, applied: false, outcome: 'replayed' });
    await landlord.node.sweeps.get('collections')?.runNow();
    expect(await status(tenant)).toBe('past_due');

    const rest = await provider.send(provider.payment('evt_2', invoice.id, 600, 'pi_2'));
    expect(rest.body.data?.outcome).toBe('applied');
    const paid = (await landlord.admin.get(`/v1/invoices/${invoice.id}`)).body.data;
    expect(paid).toMatchObject({ status: 'paid', paid: 1000 });
    expect(paid.payments.map((payment: any) => [payment.provider, payment.reference, payment.amount])).toEqual([
      ['fake', 'pi_1', 400],
      ['fake', 'pi_2', 600],
    ]);
    await eventually(async () => {
      await landlord.node.sweeps.get('collections')?.runNow();
      return (await status(tenant)) === 'active' ? true : undefined;
    });
    expect(await subscriptionEvents(tenant.id)).toEqual(['subscription.past_due', 'subscription.recovered']);

    // A payment the invoice cannot take any more is kept with its reason and answered 200 (no resending for ever).
    const late = await provider.send(provider.payment('evt_3', invoice.id, 100, 'pi_3'));
    expect(late.body.data).toMatchObject({ applied: false, outcome: 'ignored: invoice.not_open' });
  });

  it('refuses an event whose signature does not check out, or is too old, and writes nothing', async () => {
    const { product, invoice, provider } = await setUp('none');
    const forged = await provider.send(provider.payment('evt_x', invoice.id, 1000, 'pi_x'), 'not-the-secret-at-all');
    expect(forged.status).toBe(401);
    expect(forged.body.metadata.errors[0]?.code).toBe('payment_event.invalid_signature');
    const stale = fakePaymentProvider({
      baseUrl: landlord.url,
      product: product.name,
      secret: SECRET,
      now: () => new Date(clock.now().getTime() - 600_000),
    });
    expect((await stale.send(stale.payment('evt_y', invoice.id, 1000, 'pi_y'))).status).toBe(401);
    const unsigned = await fetch(`${landlord.url}/v1/products/${product.name}/payment-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(provider.payment('evt_z', invoice.id, 1000, 'pi_z')),
    });
    expect(unsigned.status).toBe(401);
    const other = await createProduct(landlord.admin);
    const elsewhere = fakePaymentProvider({ baseUrl: landlord.url, product: other.name, secret: SECRET, now: () => clock.now() });
    expect((await elsewhere.send(elsewhere.payment('evt_w', invoice.id, 1000, 'pi_w'))).status).toBe(401);
    const events = await landlord.node.services.db
      .selectFrom('payment_events')
      .select('event_id')
      .where('product_id', '=', product.id)
      .execute();
    expect(events).toEqual([]);
    expect((await landlord.admin.get(`/v1/invoices/${invoice.id}`)).body.data).toMatchObject({ status: 'open', paid: 0 });
  });

  it('leaves collection to the product by default: an overdue invoice does not make the subscription past_due', async () => {
    const { tenant, product } = await setUp('none');
    clock.set(new Date('2027-01-20T00:00:00.000Z'));
    await landlord.node.sweeps.get('collections')?.runNow();
    expect(await status(tenant)).toBe('active');
    const foreign = landlord.as(await clientToken(landlord, (await createProduct(landlord.admin)).id));
    expect((await foreign.get(`/v1/products/${product.name}/payment-provider`)).status).toBe(404);
    const client = landlord.as(await clientToken(landlord, product.id));
    expect((await client.put(`/v1/products/${product.name}/payment-provider`, { provider: 'fake', secret: SECRET })).status).toBe(403);
    const short = await landlord.admin.put(`/v1/products/${product.name}/payment-provider`, { provider: 'fake', secret: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.metadata.errors[0].parameter).toContain('secret');
    const read = await landlord.admin.get(`/v1/products/${product.name}/payment-provider`);
    expect(read.body.data).not.toHaveProperty('secret');
  });
});
