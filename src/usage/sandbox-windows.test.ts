import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { manualClock } from '../platform/clock.ts';
import { type UsageProduct, usageProduct } from './usage.test-support.ts';

let landlord: TestLandlord;
// The node's own clock stands still; each sandbox product's commerce clock is moved through the API.
const clock = manualClock(new Date('2026-01-31T10:00:00Z'));

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
});
afterAll(async () => {
  await landlord?.close();
});

/** A sandbox product billing in `zone`, and a tenant subscribed now (the commerce clock's start). */
async function sandbox(zone: string, features: Parameters<typeof usageProduct>[1]) {
  const product = await usageProduct(landlord, features);
  const billing = await landlord.admin.patch(`/v1/products/${product.name}/billing`, { sandbox: true, timeZone: zone });
  expect(billing.status).toBe(200);
  const tenant = (await landlord.admin.post('/v1/tenants', { product: product.name, name: uniqueName('tenant'), displayName: 'T' })).body
    .data;
  expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: product.price })).status).toBe(201);
  return { product, tenant: tenant.name as string };
}

async function advance(product: UsageProduct, to: string) {
  const moved = await landlord.admin.post(`/v1/products/${product.name}/clock/advance`, { to });
  expect(moved.status, moved.text).toBe(200);
}

/** Reports one event stamped at the commerce clock's now (`at`) and returns its outcome. */
async function reportAt(product: UsageProduct, tenant: string, feature: string, at: string, quantity = 1) {
  const answer = await landlord.admin.post('/v1/usage', {
    product: product.name,
    events: [{ id: `e-${uniqueName('x')}`, tenant, feature, quantity, timestamp: at }],
  });
  expect(answer.status).toBe(200);
  return answer.body.data.events[0];
}

const windows = async (tenant: string, feature: string) =>
  ((await landlord.admin.get(`/v1/tenants/${tenant}/usage?feature=${feature}`)).body.data as { windowStart: string; used: number }[]).map(
    (window) => [window.windowStart, window.used],
  );

describe('usage windows with the sandbox commerce clock, on both sides of each edge', () => {
  it('a daily reset follows the local day of the billing zone (Asia/Kolkata midnight = 18:30 UTC)', async () => {
    const { product, tenant } = await sandbox('Asia/Kolkata', { storage: { limit: 10, reset: 'day' } });
    const edge = '2026-01-31T18:30:00.000Z';
    for (const at of ['2026-01-31T18:29:59.999Z', edge, '2026-01-31T18:30:00.001Z']) {
      await advance(product, at);
      expect(await reportAt(product, tenant, 'storage', at)).toMatchObject({ outcome: 'accepted' });
      const entitlement = (await landlord.admin.get(`/v1/tenants/${tenant}/entitlements`)).body.data.features[0];
      expect(entitlement.windowStart).toBe(at < edge ? '2026-01-30T18:30:00.000Z' : edge);
    }
    expect(await windows(tenant, 'storage')).toEqual([
      ['2026-01-30T18:30:00.000Z', 1],
      [edge, 2],
    ]);
  });

  it('a monthly window anchored on the 31st ends on Feb 28, and a late event is taken until the grace is over', async () => {
    const { product, tenant } = await sandbox('UTC', { api_calls: { limit: 100, reset: 'month', enforcement: 'hard' } });
    const edge = '2026-02-28T10:00:00.000Z';
    for (const at of ['2026-02-28T09:59:59.999Z', edge, '2026-02-28T10:00:00.001Z']) {
      await advance(product, at);
      expect(await reportAt(product, tenant, 'api_calls', at)).toMatchObject({ outcome: 'accepted' });
    }
    expect(await windows(tenant, 'api_calls')).toEqual([
      ['2026-01-31T10:00:00.000Z', 1],
      [edge, 2],
    ]);
    // The grace (60 minutes) after Feb 28 10:00: a late event for January's window until 10:59:59.999, not at 11:00.
    await advance(product, '2026-02-28T10:59:59.999Z');
    expect(await reportAt(product, tenant, 'api_calls', '2026-02-28T09:00:00Z')).toMatchObject({ outcome: 'accepted' });
    await advance(product, '2026-02-28T11:00:00.000Z');
    expect(await reportAt(product, tenant, 'api_calls', '2026-02-28T09:00:00Z')).toMatchObject({
      outcome: 'rejected',
      code: 'usage.window_closed',
    });
    // The next window ends on Mar 31 (the anchor's day comes back), and the entitlements say so at once (a sandbox is never cached).
    const entitlement = (await landlord.admin.get(`/v1/tenants/${tenant}/entitlements`)).body.data.features[0];
    expect(entitlement).toMatchObject({ windowStart: edge, windowEnd: '2026-03-31T10:00:00.000Z', used: 2 });
    await advance(product, '2026-03-31T10:00:00.000Z');
    expect((await landlord.admin.get(`/v1/tenants/${tenant}/entitlements`)).body.data.features[0]).toMatchObject({
      windowStart: '2026-03-31T10:00:00.000Z',
      used: 0,
    });
  });
});
