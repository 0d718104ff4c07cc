import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanPrice, createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { clientToken } from '../catalogue/catalogue.test-support.ts';
import { manualClock } from '../platform/clock.ts';

const clock = manualClock(new Date('2024-01-31T10:00:00.000Z'));
let landlord: TestLandlord;
let product: { id: string; name: string };
let other: { id: string; name: string };
let ownClient: string;
let foreignClient: string;
const tenants: { id: string; name: string }[] = [];
let otherTenant: { id: string; name: string };

const ids = (response: { body: { data: { id: string }[] } }) => response.body.data.map((item) => item.id);
const errorOf = (response: { status: number; body: { metadata: { errors: { parameter?: string; code: string }[] } } }) => ({
  status: response.status,
  ...response.body.metadata.errors[0],
});

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  product = await createProduct(landlord.admin);
  other = await createProduct(landlord.admin);
  const price = await createPlanPrice(landlord.admin, product.name);
  const otherPrice = await createPlanPrice(landlord.admin, other.name);
  for (let i = 0; i < 3; i++) {
    const tenant = await createTenant(landlord.admin, product.name);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: price.price })).status).toBe(201);
    tenants.push(tenant);
  }
  // The third is cancelled at period end: live, but not renewing.
  expect((await landlord.admin.post(`/v1/tenants/${tenants[2]?.name}/subscription/cancel`, {})).status).toBe(200);
  otherTenant = await createTenant(landlord.admin, other.name);
  expect((await landlord.admin.post(`/v1/tenants/${otherTenant.name}/subscription`, { price: otherPrice.price })).status).toBe(201);
  ownClient = await clientToken(landlord, product.id);
  foreignClient = await clientToken(landlord, other.id);
});
afterAll(async () => {
  await landlord?.close();
});

describe('GET /v1/subscriptions', () => {
  it('lists a product’s subscriptions newest first, in pages that neither skip nor repeat', async () => {
    const all = await landlord.admin.get(`/v1/subscriptions?product=${product.name}`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((s: { tenantId: string }) => s.tenantId)).toEqual(tenants.map((t) => t.id).reverse());
    expect(all.body.data[0]).toMatchObject({ status: 'active', currency: 'EUR', priceName: expect.any(String) });
    const first = await landlord.admin.get(`/v1/subscriptions?product=${product.name}&limit=2`);
    expect(ids(first)).toHaveLength(2);
    const cursor = first.body.metadata.pagination.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const second = await landlord.admin.get(`/v1/subscriptions?product=${product.name}&limit=2&cursor=${cursor}`);
    expect([...ids(first), ...ids(second)]).toEqual(ids(all));
    expect(second.body.metadata.pagination.nextCursor).toBeNull();
    // An operator without a product filter sees every product's.
    const everyone = ids(await landlord.admin.get('/v1/subscriptions?limit=500'));
    expect(everyone).toEqual(expect.arrayContaining(ids(all)));
  });

  it('filters by status, renewing before an instant (strictly, auto-renewing, no cancellation scheduled) and past due', async () => {
    const tenantIds = async (query: string) =>
      (await landlord.admin.get(`/v1/subscriptions?product=${product.name}&${query}`)).body.data.map(
        (s: { tenantId: string }) => s.tenantId,
      );
    // Every period ends 2024-02-29T10:00Z (Jan 31 + 1 month, clamped).
    expect(await tenantIds('renewingBefore=2024-03-01T00:00:00Z')).toEqual([tenants[1]?.id, tenants[0]?.id]);
    expect(await tenantIds('renewingBefore=2024-02-29T10:00:00Z')).toEqual([]);
    expect(await tenantIds('status=active')).toHaveLength(3);
    expect(await tenantIds('status=canceled')).toEqual([]);
    expect(await tenantIds('pastDue=true')).toEqual([]);
    expect(await tenantIds('pastDue=false')).toHaveLength(3);
    await landlord.node.services.db
      .updateTable('subscriptions')
      .set({ status: 'past_due' })
      .where('tenant_id', '=', String(tenants[0]?.id))
      .execute();
    try {
      expect(await tenantIds('pastDue=true')).toEqual([tenants[0]?.id]);
      expect(await tenantIds('pastDue=true&renewingBefore=2024-03-01T00:00:00Z')).toEqual([tenants[0]?.id]);
    } finally {
      await landlord.node.services.db
        .updateTable('subscriptions')
        .set({ status: 'active' })
        .where('tenant_id', '=', String(tenants[0]?.id))
        .execute();
    }
  });

  it('answers 400 naming a bad parameter', async () => {
    const bad = async (query: string) => errorOf(await landlord.admin.get(`/v1/subscriptions?${query}`));
    expect(await bad('status=bogus')).toMatchObject({ status: 400, parameter: 'querystring.status' });
    expect(await bad('renewingBefore=tomorrow')).toMatchObject({ status: 400, parameter: 'querystring.renewingBefore' });
    expect(await bad('pastDue=maybe')).toMatchObject({ status: 400, parameter: 'querystring.pastDue' });
    expect(await bad('limit=0')).toMatchObject({ status: 400, parameter: 'querystring.limit' });
    expect(await bad('cursor=abc')).toMatchObject({ status: 400, code: 'request.invalid_cursor', parameter: 'cursor' });
    expect((await bad('colour=red')).status).toBe(400);
    expect(await bad('product=no-such-product')).toMatchObject({ status: 404, parameter: 'product' });
  });

  it('scopes a product’s client to its product: another product’s credential sees nothing of ours', async () => {
    const own = await landlord.as(ownClient).get('/v1/subscriptions');
    expect(own.body.data.map((s: { tenantId: string }) => s.tenantId)).toEqual(tenants.map((t) => t.id).reverse());
    const foreign = landlord.as(foreignClient);
    const theirs = await foreign.get('/v1/subscriptions?limit=500');
    expect(theirs.body.data.map((s: { tenantId: string }) => s.tenantId)).toEqual([otherTenant.id]);
    expect((await foreign.get(`/v1/subscriptions?product=${product.name}`)).status).toBe(404);
    expect((await foreign.get('/v1/subscriptions?renewingBefore=2030-01-01T00:00:00Z')).body.data).toHaveLength(1);
  });
});

describe('GET /v1/invoices', () => {
  it('filters by product, tenant, status and currency, in pages', async () => {
    const list = async (query: string) => landlord.admin.get(`/v1/invoices?${query}`);
    const all = await list(`product=${product.name}`);
    expect(all.status).toBe(200);
    expect(all.body.data.map((i: { tenantId: string }) => i.tenantId)).toEqual(tenants.map((t) => t.id).reverse());
    expect(all.body.data[0]).toMatchObject({ status: 'open', currency: 'EUR', total: 1000, due: 1000 });
    expect(ids(await list(`tenant=${tenants[0]?.name}`))).toHaveLength(1);
    expect(ids(await list(`product=${product.name}&currency=EUR`))).toEqual(ids(all));
    expect(ids(await list(`product=${product.name}&currency=USD`))).toEqual([]);
    expect(ids(await list(`product=${product.name}&status=open`))).toEqual(ids(all));
    expect(ids(await list(`product=${product.name}&status=paid`))).toEqual([]);
    const first = await list(`product=${product.name}&limit=1`);
    const rest = await list(`product=${product.name}&limit=5&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect([...ids(first), ...ids(rest)]).toEqual(ids(all));
  });

  it('finds overdue invoices: open, unpaid, finalized longer ago than the grace (7 days by default)', async () => {
    const overdue = async (flag: boolean) => ids(await landlord.admin.get(`/v1/invoices?product=${product.name}&overdue=${flag}`));
    const all = ids(await landlord.admin.get(`/v1/invoices?product=${product.name}`));
    expect(await overdue(true)).toEqual([]);
    expect(await overdue(false)).toEqual(all);
    clock.advance(7 * 24 * 60 * 60 * 1000 + 1000);
    expect(await overdue(true)).toEqual(all);
    const paid = all[0] as string;
    const payment = await landlord.admin.post(`/v1/invoices/${paid}/payments`, {
      provider: 'manual',
      reference: `ref-${paid}`,
      amount: 1000,
    });
    expect(payment.status).toBe(201);
    expect(await overdue(true)).toEqual(all.slice(1));
    expect(await overdue(false)).toEqual([paid]);
  });

  it('answers 400 naming a bad parameter', async () => {
    const bad = async (query: string) => errorOf(await landlord.admin.get(`/v1/invoices?${query}`));
    expect(await bad('status=unpaid')).toMatchObject({ status: 400, parameter: 'querystring.status' });
    expect(await bad('currency=eur')).toMatchObject({ status: 400, parameter: 'querystring.currency' });
    expect(await bad('overdue=soon')).toMatchObject({ status: 400, parameter: 'querystring.overdue' });
    expect(await bad('cursor=abc')).toMatchObject({ status: 400, code: 'request.invalid_cursor' });
    expect(await bad('tenant=no-such-tenant')).toMatchObject({ status: 404, parameter: 'tenant' });
  });

  it('scopes a product’s client to its product: another product’s credential sees nothing of ours', async () => {
    // The clock moved past the earlier tokens' lifetime: fresh ones.
    ownClient = await clientToken(landlord, product.id);
    foreignClient = await clientToken(landlord, other.id);
    const own = await landlord.as(ownClient).get('/v1/invoices');
    expect(own.body.data.map((i: { tenantId: string }) => i.tenantId)).toEqual(tenants.map((t) => t.id).reverse());
    const foreign = landlord.as(foreignClient);
    expect((await foreign.get('/v1/invoices?limit=500')).body.data.map((i: { tenantId: string }) => i.tenantId)).toEqual([otherTenant.id]);
    expect((await foreign.get(`/v1/invoices?product=${product.name}`)).status).toBe(404);
    expect((await foreign.get(`/v1/invoices?tenant=${tenants[0]?.name}`)).status).toBe(404);
    expect((await foreign.get(`/v1/invoices?tenant=${tenants[0]?.id}`)).status).toBe(404);
  });
});
