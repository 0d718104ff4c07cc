import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createTenant, uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { manualClock } from '../platform/clock.ts';
import { eventsOf } from './usage.test-support.ts';

// Usage through the real plan-change flow: a loopback backend confirms each change (response mode).
const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const JAN_5 = new Date('2027-01-05T00:00:00.000Z');
const JAN_10 = new Date('2027-01-10T00:00:00.000Z');
const JAN_15 = new Date('2027-01-15T00:00:00.000Z');
const JAN_20 = new Date('2027-01-20T00:00:00.000Z');
const FEB_1 = new Date('2027-02-01T00:00:00.000Z');

const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let second: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
const prices: Record<'basic' | 'pro', string> = { basic: '', pro: '' };

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  // A second node: its entitlements cache hears about the applied change only through NOTIFY.
  second = await startTestLandlord({ clock, database: landlord.database });
  backend = await startBackendSimulator();
  backend.behave(() => ({ status: 200, body: {} }));
  wired = await wireProduct(landlord, backend, { mode: 'response' });
  const product = wired.product.name;
  const must = async (answer: Promise<{ status: number; text: string }>) => {
    const got = await answer;
    if (got.status >= 300) throw new Error(`${got.status} ${got.text}`);
  };
  for (const [name, feature] of [
    ['api_calls', 'number'],
    ['seats', 'number'],
    ['exports', 'number'],
  ] as const)
    await must(landlord.admin.post(`/v1/products/${product}/features`, { name, displayName: name, type: feature }));
  const plans = {
    basic: { amount: 10_000, features: [{ feature: 'api_calls', limit: 100, reset: 'month', enforcement: 'hard' }] },
    pro: {
      amount: 20_000,
      features: [
        { feature: 'api_calls', limit: 1000, reset: 'month', enforcement: 'hard' },
        { feature: 'exports', limit: 10, reset: 'month' },
      ],
    },
  };
  for (const [key, spec] of Object.entries(plans) as [keyof typeof plans, (typeof plans)['pro']][]) {
    const plan = uniqueName(key);
    const price = uniqueName('price');
    await must(landlord.admin.post(`/v1/products/${product}/plans`, { name: plan, displayName: key }));
    await must(
      landlord.admin.post(`/v1/products/${product}/plans/${plan}/prices`, {
        name: price,
        cycle: 'month',
        amount: spec.amount,
        currency: 'EUR',
      }),
    );
    for (const feature of [...spec.features, { feature: 'seats', limit: 5, reset: 'never' }])
      await must(landlord.admin.post(`/v1/products/${product}/plans/${plan}/features`, feature));
    await must(landlord.admin.post(`/v1/products/${product}/plans/${plan}/publish`, {}));
    await must(landlord.admin.post(`/v1/products/${product}/plans/${plan}/prices/${price}/publish`, {}));
    prices[key] = price;
  }
});
afterAll(async () => {
  await second?.close();
  await landlord?.close();
  await backend?.close();
});

/** The product's backend as a client, logged in now (tokens expire on the moved clock). */
async function clientOf(url = landlord.url): Promise<ApiClient> {
  const auth = await apiClient(url).post('/api/identity/apps/v1/auth', { clientId: wired.clientId, clientSecret: wired.clientSecret });
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${auth.text}`);
  return apiClient(url, auth.body.data.token.accessToken);
}

const report = async (tenant: string, feature: string, quantity: number, at: Date) => {
  const answer = await (await clientOf()).post('/v1/usage', {
    events: [{ id: uniqueName('e'), tenant, feature, quantity, timestamp: at.toISOString() }],
  });
  expect(answer.status).toBe(200);
  return answer.body.data.events[0] as { outcome: string; code?: string };
};
const entitlement = async (tenant: string, feature: string, url?: string) => {
  const answer = await (await clientOf(url)).get(`/v1/tenants/${tenant}/entitlements`);
  expect(answer.status).toBe(200);
  return { plan: answer.body.data.plan.name, ...answer.body.data.features.find((f: { feature: string }) => f.feature === feature) };
};
const check = async (tenant: string, feature: string, quantity: number, url?: string) =>
  (await (await clientOf(url)).post(`/v1/tenants/${tenant}/entitlements/${feature}/check`, { quantity })).body.data;

async function change(tenant: string, body: Record<string, unknown>) {
  const asked = await (await clientOf()).post(`/v1/tenants/${tenant}/subscription/changes`, body);
  expect(asked.status).toBe(201);
  return eventually(async () => {
    const read = await (await clientOf()).get(`/v1/tenants/${tenant}/subscription/changes/${asked.body.data.id}`);
    return read.body.data.status === 'applied' ? read.body.data : undefined;
  });
}

describe('usage across confirmed plan changes', () => {
  it('uses the plan in force at each event’s time, and both nodes see an applied upgrade’s limit at once', async () => {
    clock.set(JAN_1);
    const tenant = await createTenant(landlord.admin, wired.product.name);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: prices.basic })).status).toBe(201);
    clock.set(JAN_5);
    expect((await report(tenant.name, 'api_calls', 90, JAN_5)).outcome).toBe('accepted');
    // Both nodes cache the basic plan's answer.
    expect(await check(tenant.name, 'api_calls', 20)).toMatchObject({ allowed: false, used: 90, limit: 100 });
    expect(await check(tenant.name, 'api_calls', 20, second.url)).toMatchObject({ allowed: false, used: 90, limit: 100 });

    clock.set(JAN_15);
    const applied = await change(tenant.name, { price: prices.pro });
    expect(applied).toMatchObject({ kind: 'upgrade', timing: 'now', effectiveAt: JAN_15.toISOString() });
    // The month's usage carries over; the new plan's limit applies on this node and the other (NOTIFY).
    expect(await check(tenant.name, 'api_calls', 20)).toMatchObject({ allowed: true, used: 90, limit: 1000 });
    expect(await check(tenant.name, 'api_calls', 20, second.url)).toMatchObject({ allowed: true, used: 90, limit: 1000 });
    expect(await entitlement(tenant.name, 'api_calls', second.url)).toMatchObject({ limit: 1000, used: 90 });
    // exports is only Pro's: an event from before the upgrade (reported late) is judged on Basic, one after on Pro.
    expect(await report(tenant.name, 'exports', 1, JAN_10)).toMatchObject({ outcome: 'rejected', code: 'usage.feature_not_in_plan' });
    expect(await report(tenant.name, 'exports', 1, new Date(JAN_15.getTime() - 1))).toMatchObject({ code: 'usage.feature_not_in_plan' });
    expect((await report(tenant.name, 'exports', 1, JAN_15)).outcome).toBe('accepted');
    expect(await entitlement(tenant.name, 'exports')).toMatchObject({ included: true, used: 1, limit: 10 });
  });

  it('a confirmed reset starts a new `never` window and restarts the monthly one; usage before it stays in the window it cut', async () => {
    clock.set(JAN_1);
    const tenant = await createTenant(landlord.admin, wired.product.name);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: prices.basic })).status).toBe(201);
    clock.set(JAN_5);
    expect((await report(tenant.name, 'seats', 4, JAN_5)).outcome).toBe('accepted');
    expect((await report(tenant.name, 'api_calls', 100, JAN_5)).outcome).toBe('accepted');
    expect(await check(tenant.name, 'seats', 2, second.url)).toMatchObject({ allowed: true, used: 4, limit: 5 });
    expect(await check(tenant.name, 'api_calls', 1, second.url)).toMatchObject({ allowed: false, used: 100 });

    clock.set(JAN_20);
    const applied = await change(tenant.name, { reset: true });
    expect(applied).toMatchObject({ kind: 'reset', effectiveAt: JAN_20.toISOString() });
    expect(await entitlement(tenant.name, 'seats', second.url)).toMatchObject({
      used: 0,
      windowStart: JAN_20.toISOString(),
      windowEnd: null,
    });
    expect(await entitlement(tenant.name, 'api_calls')).toMatchObject({
      used: 0,
      windowStart: JAN_20.toISOString(),
      windowEnd: FEB_1.toISOString(),
    });
    expect(await check(tenant.name, 'api_calls', 1, second.url)).toMatchObject({ allowed: true, used: 0 });
    // The limit reached before the reset is left: the window it was reached in ended at the reset.
    expect(await eventsOf(landlord, tenant.id, 'usage.limit_reached')).toHaveLength(1);
    await landlord.node.sweeps.get('usage-limits')?.runNow();
    // The second node's sweep may be the one that clears it (SKIP LOCKED), and commit after runNow returned.
    const cleared = await eventually(
      async () => {
        const events = await eventsOf(landlord, tenant.id, 'usage.limit_cleared');
        return events.length > 0 ? events : undefined;
      },
      20_000,
      'the limit cleared',
    );
    expect(cleared.map((event) => event.data)).toMatchObject([{ feature: 'api_calls', windowEnd: JAN_20.toISOString() }]);
    // A late event from before the reset counts in the window the reset cut (open for its grace), not the new one.
    expect((await report(tenant.name, 'api_calls', 3, new Date(JAN_20.getTime() - 1))).outcome).toBe('accepted');
    expect((await report(tenant.name, 'api_calls', 7, JAN_20)).outcome).toBe('accepted');
    const windows = await (await clientOf()).get(`/v1/tenants/${tenant.name}/usage?feature=api_calls`);
    expect(
      windows.body.data.map((w: { windowStart: string; windowEnd: string; used: number }) => [w.windowStart, w.windowEnd, w.used]),
    ).toEqual([
      [JAN_1.toISOString(), JAN_20.toISOString(), 103],
      [JAN_20.toISOString(), FEB_1.toISOString(), 7],
    ]);
  });
});
