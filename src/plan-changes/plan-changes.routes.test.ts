import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { clientToken } from '../catalogue/catalogue.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { publishedPrice } from './plan-changes.test-support.ts';

const clock = manualClock(new Date('2027-01-01T00:00:00.000Z'));
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
let p100: { id: string; name: string };
let p200: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { mode: 'callback', callbackTimeoutSeconds: 600 });
  p100 = await publishedPrice(landlord.admin, wired.product.name, 10_000);
  p200 = await publishedPrice(landlord.admin, wired.product.name, 20_000);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function subscribedTenant(product: string, price: string) {
  const tenant = await createTenant(landlord.admin, product);
  expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price })).status).toBe(201);
  return tenant as { id: string; name: string };
}

const client = async () => landlord.as(await clientToken(landlord, wired.product.id));
const changes = (tenant: { name: string }) => `/v1/tenants/${tenant.name}/subscription/changes`;

async function changeCount(tenantId: string) {
  const row = await landlord.node.services.db
    .selectFrom('subscription_changes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('POST /v1/tenants/{tenant}/subscription/changes: bad requests name the field and write nothing', () => {
  it('refuses a price that is unknown, unpublished, in another currency, the current one, or another product’s (422, price)', async () => {
    const tenant = await subscribedTenant(wired.product.name, p100.name);
    const draft = await publishedPrice(landlord.admin, wired.product.name, 30_000, { publish: false });
    const dollars = await publishedPrice(landlord.admin, wired.product.name, 30_000, { currency: 'USD' });
    const other = await createProduct(landlord.admin);
    const foreign = await publishedPrice(landlord.admin, other.name, 30_000);
    const as = await client();
    for (const [price, code] of [
      ['no-such-price', 'plan_change.invalid_price'],
      [draft.name, 'plan_change.invalid_price'],
      [foreign.id, 'plan_change.invalid_price'],
      [dollars.name, 'plan_change.currency_mismatch'],
      [p100.name, 'plan_change.same_price'],
    ]) {
      const refused = await as.post(changes(tenant), { price });
      expect(refused.status, `${price}`).toBe(422);
      expect(refused.body.metadata.errors[0]).toMatchObject({ code, parameter: 'price' });
    }
    const nothing = await as.post(changes(tenant), {});
    expect(nothing.status).toBe(400);
    expect(nothing.body.metadata.errors[0]).toMatchObject({ parameter: 'price' });
    const unknownField = await as.post(changes(tenant), { price: p200.name, when: 'now' });
    expect(unknownField.status).toBe(400);
    expect(await changeCount(tenant.id)).toBe(0);
  });

  it('lets an operator, not a client, make a downgrade immediate (403, timing)', async () => {
    const tenant = await subscribedTenant(wired.product.name, p200.name);
    const refused = await (await client()).post(changes(tenant), { price: p100.name, timing: 'now' });
    expect(refused.status).toBe(403);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'auth.forbidden', parameter: 'timing' });
    expect(await changeCount(tenant.id)).toBe(0);
    const allowed = await landlord.admin.post(changes(tenant), { price: p100.name, timing: 'now' });
    expect(allowed.status).toBe(201);
    expect(allowed.body.data).toMatchObject({ kind: 'downgrade', timing: 'now', status: 'calling' });
  });

  it("refuses a change the product's backend has no URL for (409, naming the URL)", async () => {
    const product = await createProduct(landlord.admin, { webhooks: { upgrade: `${backend.url}/up/{name}` } });
    const cheap = await publishedPrice(landlord.admin, product.name, 10_000);
    const dear = await publishedPrice(landlord.admin, product.name, 20_000);
    const tenant = await subscribedTenant(product.name, dear.name);
    const refused = await landlord.admin.post(changes(tenant), { price: cheap.name });
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'plan_change.backend_url_missing', parameter: 'webhooks.downgrade' });
    const reset = await landlord.admin.post(changes(tenant), { reset: true });
    expect(reset.body.metadata.errors[0]).toMatchObject({ code: 'plan_change.backend_url_missing', parameter: 'webhooks.reset' });
    expect(await changeCount(tenant.id)).toBe(0);
    expect((await landlord.admin.post(changes(tenant), { price: dear.name })).status).toBe(422);
  });

  it('answers 404 for a tenant without a subscription, and for another product’s credential', async () => {
    const bare = await createTenant(landlord.admin, wired.product.name);
    const none = await landlord.admin.post(changes(bare), { price: p200.name });
    expect(none.status).toBe(404);
    expect(none.body.metadata.errors[0].code).toBe('subscription.not_found');
    const tenant = await subscribedTenant(wired.product.name, p100.name);
    const other = await createProduct(landlord.admin);
    const foreign = landlord.as(await clientToken(landlord, other.id));
    for (const response of [
      await foreign.post(changes(tenant), { price: p200.name }),
      await foreign.post(`${changes(tenant)}/preview`, { price: p200.name }),
      await foreign.get(changes(tenant)),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.metadata.errors[0].code).toBe('tenant.not_found');
    }
    const asked = await (await client()).post(changes(tenant), { price: p200.name });
    expect((await foreign.get(`${changes(tenant)}/${asked.body.data.id}`)).status).toBe(404);
    expect((await foreign.post(`${changes(tenant)}/${asked.body.data.id}/report`, { outcome: 'applied' })).status).toBe(404);
    expect((await landlord.as(undefined).post(changes(tenant), { price: p200.name })).status).toBe(401);
  });
});

describe('reports of plan changes', () => {
  it('refuses a report when nothing is in flight, and one naming another tenant’s change (404)', async () => {
    const tenant = await subscribedTenant(wired.product.name, p100.name);
    const as = await client();
    const refused = await as.post(`/api/management/apps/v1/tenants/${tenant.name}/subscription/reset`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.metadata).toMatchObject({ success: false });
    const other = await subscribedTenant(wired.product.name, p100.name);
    const asked = await as.post(changes(other), { price: p200.name });
    const crossed = await as.post(`${changes(tenant)}/${asked.body.data.id}/report`, { outcome: 'applied' });
    expect(crossed.status).toBe(404);
    expect(crossed.body.metadata.errors[0]).toMatchObject({ code: 'plan_change.not_found', parameter: 'change' });
  });
});
