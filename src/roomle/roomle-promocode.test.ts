import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { accessToken, must, type RoomleProduct, roomleProduct, roomleTenant, roomleUser } from './roomle.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: RoomleProduct;
const DAY = 24 * 3600 * 1000;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await roomleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function defineCode(body: Record<string, unknown> = {}) {
  const code = uniqueName('PROMO').replaceAll('-', '_').slice(0, 60);
  const created = await must(
    landlord.admin.post(`/v1/products/${product.name}/promo-codes`, {
      code,
      price: product.prices.tenant_premium,
      durationDays: 30,
      ...body,
    }),
    201,
  );
  return created.body.data as { code: string; id: string };
}

/** A live tenant and a client of a user of it holding `permissions`. */
async function tenantWithUser(permissions = ['tenant_payment']): Promise<{ tenant: { id: number; name: string }; client: ApiClient }> {
  const tenant = await roomleTenant(landlord, product);
  const record = (await must(landlord.admin.get(`/v1/tenants/${tenant.name}`), 200)).body.data;
  const user = await roomleUser(landlord, tenant.name, permissions);
  return { tenant, client: apiClient(landlord.url, await accessToken(landlord, product, record, user)) };
}

const redeem = (client: ApiClient, tenant: { id: number }, code: string) =>
  client.post(`/v2/tenants/${tenant.id}/promocode/`, { promocode: code });

describe('promo codes (operators)', () => {
  it('are defined per product with the plan price, duration, window and total; bad input names the field', async () => {
    const promo = await defineCode({ maxRedemptions: 5, activeUntil: new Date(Date.now() + 30 * DAY).toISOString() });
    const read = await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${promo.code.toLowerCase()}`), 200);
    expect(read.body.data).toMatchObject({
      code: promo.code,
      price: { name: product.prices.tenant_premium },
      durationDays: 30,
      maxRedemptions: 5,
      redemptions: 0,
      oncePerTenant: true,
      active: true,
      activeFrom: null,
    });
    const taken = await landlord.admin.post(`/v1/products/${product.name}/promo-codes`, {
      code: promo.code,
      price: product.prices.tenant_basic,
      durationDays: 1,
    });
    expect(taken.status).toBe(409);
    for (const [body, field] of [
      [{ price: 'no-such-price' }, 'price'],
      [{ durationDays: 0 }, 'durationDays'],
      [{ activeFrom: '2030-01-02T00:00:00.000Z', activeUntil: '2030-01-01T00:00:00.000Z' }, 'activeUntil'],
      [{ code: 'has space' }, 'code'],
    ] as const) {
      const refused = await landlord.admin.post(`/v1/products/${product.name}/promo-codes`, {
        code: uniqueName('X').replaceAll('-', '_'),
        price: product.prices.tenant_basic,
        durationDays: 10,
        ...body,
      });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.metadata.errors[0].parameter).toBe(field);
    }
    // Another product's operator sees no such product.
    const other = await landlord.admin.post('/v1/products', { name: uniqueName('other'), displayName: 'Other' });
    const otherAdmin = landlord.as(await productAdminKey(landlord, other.body.data.name));
    expect((await otherAdmin.get(`/v1/products/${product.name}/promo-codes`)).status).toBe(404);
  });
});

describe('POST /v2/tenants/{id}/promocode/', () => {
  it('applies a code once: the tenant gets the package from the promo code with its dates; the second time is refused', async () => {
    const promo = await defineCode({ durationDays: 14 });
    const { tenant, client } = await tenantWithUser();
    const answer = await must(redeem(client, tenant, promo.code), 200);
    const purchase = answer.body.purchase;
    expect(purchase).toMatchObject({ package: 'tenant_premium', promocode: promo.code, fromPromocode: true });
    expect(purchase.validFrom).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(purchase.validTill).getTime() - new Date(purchase.validFrom).getTime()).toBe(14 * DAY);
    const read = await must(client.get(`/v2/tenants/${tenant.id}`), 200);
    expect(read.body.tenant.packages).toEqual([
      { id: purchase.id, package: 'tenant_premium', fromPromocode: true, validFrom: purchase.validFrom, validTill: purchase.validTill },
    ]);
    const subscription = await must(landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`), 200);
    expect(subscription.body.data).toMatchObject({ id: purchase.id, status: 'trialing', autoRenew: false });

    const again = await redeem(client, tenant, promo.code.toLowerCase());
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'promo_code.already_used', field: 'promocode' });
    const counted = await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${promo.code}`), 200);
    expect(counted.body.data.redemptions).toBe(1);
  });

  it('refuses an exhausted, expired, not yet valid, inactive or unknown code with a 4xx naming why, writing nothing', async () => {
    const once = await defineCode({ maxRedemptions: 1 });
    const first = await tenantWithUser();
    await must(redeem(first.client, first.tenant, once.code), 200);
    const { tenant, client } = await tenantWithUser();
    const expired = await defineCode({ activeUntil: new Date(Date.now() - DAY).toISOString() });
    const later = await defineCode({ activeFrom: new Date(Date.now() + 10 * DAY).toISOString() });
    const off = await defineCode();
    await must(landlord.admin.patch(`/v1/products/${product.name}/promo-codes/${off.code}`, { active: false }), 200);
    for (const [code, status, error] of [
      [once.code, 422, 'promo_code.exhausted'],
      [expired.code, 422, 'promo_code.expired'],
      [later.code, 422, 'promo_code.not_yet_valid'],
      [off.code, 422, 'promo_code.inactive'],
      ['NO_SUCH_CODE', 404, 'promo_code.not_found'],
    ] as const) {
      const refused = await redeem(client, tenant, code);
      expect(refused.status, `${code} ${refused.text}`).toBe(status);
      expect(refused.body.error).toMatchObject({ code: error, field: 'promocode' });
    }
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).status).toBe(404);
    expect((await must(client.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant.packages).toEqual([]);
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${once.code}`), 200)).body.data.redemptions).toBe(1);
  });

  it('needs tenant_payment (403), the tenant (404 for another), a well-formed body (400); a subscribed tenant gets 409', async () => {
    const promo = await defineCode();
    const noRight = await tenantWithUser(['tenant_management']);
    expect((await redeem(noRight.client, noRight.tenant, promo.code)).status).toBe(403);
    const { tenant, client } = await tenantWithUser();
    expect((await redeem(client, noRight.tenant, promo.code)).status).toBe(404);
    const bad = await client.post(`/v2/tenants/${tenant.id}/promocode/`, { promocode: 'bad code!' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toMatch(/^promocode/);
    await must(landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: product.prices.tenant_basic }), 201);
    const subscribed = await redeem(client, tenant, promo.code);
    expect(subscribed.status).toBe(409);
    expect(subscribed.body.error.code).toBe('promo_code.subscription_exists');
    const packages = (await must(client.get(`/v2/tenants/${tenant.id}`), 200)).body.tenant.packages;
    expect(packages).toHaveLength(1);
    expect(packages[0]).toMatchObject({ package: 'tenant_basic', fromPromocode: false });
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${promo.code}`), 200)).body.data.redemptions).toBe(0);
  });
});

describe('promo codes under concurrency', () => {
  it('a code with one redemption left is won by exactly one of several tenants redeeming at once', async () => {
    const promo = await defineCode({ maxRedemptions: 1 });
    const racers = await Promise.all([tenantWithUser(), tenantWithUser(), tenantWithUser(), tenantWithUser()]);
    const answers = await Promise.all(racers.map(({ tenant, client }) => redeem(client, tenant, promo.code)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 422, 422, 422]);
    for (const answer of answers.filter((one) => one.status === 422)) expect(answer.body.error.code).toBe('promo_code.exhausted');
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${promo.code}`), 200)).body.data.redemptions).toBe(1);
    const subscribed = await Promise.all(racers.map(({ tenant }) => landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)));
    expect(subscribed.filter((answer) => answer.status === 200)).toHaveLength(1);
  });

  it('one tenant redeeming the same code many times at once gets it once', async () => {
    const promo = await defineCode();
    const { tenant, client } = await tenantWithUser();
    const answers = await Promise.all(Array.from({ length: 5 }, () => redeem(client, tenant, promo.code)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((one) => one.status !== 200)) {
      expect(answer.status, answer.text).toBe(409);
      expect(answer.body.error.code).toBe('promo_code.already_used');
    }
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/promo-codes/${promo.code}`), 200)).body.data.redemptions).toBe(1);
  });
});
