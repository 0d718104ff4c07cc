import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createTenant, uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { manualClock } from '../platform/clock.ts';
import { eventsOf } from './usage.test-support.ts';

// Issue #11: windows before an anchor-changing plan change stay as they were, and thresholds are judged against the
// plan in force at each event's time. Through the real flow: a loopback backend confirms each change (response mode).
const d = (iso: string) => new Date(`2027-${iso}Z`);
const JAN_1 = d('01-01T00:00:00.000');

const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
const prices: Record<'basic' | 'trial' | 'pro' | 'proYearly', string> = { basic: '', trial: '', pro: '', proYearly: '' };

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  backend.behave(() => ({ status: 200, body: {} }));
  wired = await wireProduct(landlord, backend, { mode: 'response' });
  const product = `/v1/products/${wired.product.name}`;
  const must = async (answer: Promise<{ status: number; text: string }>) => {
    const got = await answer;
    if (got.status >= 300) throw new Error(`${got.status} ${got.text}`);
  };
  for (const name of ['api_calls', 'exports'])
    await must(landlord.admin.post(`${product}/features`, { name, displayName: name, type: 'number' }));
  const plans = [
    { key: 'basic', limits: [100, 10], prices: [['basic', 'month', 10_000, 0] as const, ['trial', 'month', 10_000, 14] as const] },
    { key: 'pro', limits: [1000, 50], prices: [['pro', 'month', 20_000, 0] as const, ['proYearly', 'year', 200_000, 0] as const] },
  ];
  for (const spec of plans) {
    const plan = uniqueName(spec.key);
    await must(landlord.admin.post(`${product}/plans`, { name: plan, displayName: spec.key }));
    await must(landlord.admin.post(`${product}/plans/${plan}/features`, { feature: 'api_calls', limit: spec.limits[0], reset: 'month' }));
    await must(landlord.admin.post(`${product}/plans/${plan}/features`, { feature: 'exports', limit: spec.limits[1], reset: 'week' }));
    await must(landlord.admin.post(`${product}/plans/${plan}/publish`, {}));
    for (const [key, cycle, amount, trialDays] of spec.prices) {
      const price = uniqueName('price');
      await must(landlord.admin.post(`${product}/plans/${plan}/prices`, { name: price, cycle, amount, currency: 'EUR', trialDays }));
      await must(landlord.admin.post(`${product}/plans/${plan}/prices/${price}/publish`, {}));
      prices[key] = price;
    }
  }
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** The product's backend as a client, logged in now (tokens expire on the moved clock). */
async function client(): Promise<ApiClient> {
  const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', {
    clientId: wired.clientId,
    clientSecret: wired.clientSecret,
  });
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${auth.text}`);
  return apiClient(landlord.url, auth.body.data.token.accessToken);
}
type Event = { id?: string; feature: string; quantity: number; at: Date };
async function report(tenant: string, ...events: Event[]) {
  const answer = await (await client()).post('/v1/usage', {
    events: events.map((e) => ({
      id: e.id ?? uniqueName('e'),
      tenant,
      feature: e.feature,
      quantity: e.quantity,
      timestamp: e.at.toISOString(),
    })),
  });
  expect(answer.status).toBe(200);
  return (answer.body.data.events as { outcome: string }[]).map((event) => event.outcome);
}
const windows = async (tenant: string, feature: string) =>
  ((await (await client()).get(`/v1/tenants/${tenant}/usage?feature=${feature}`)).body.data as Record<string, unknown>[]).map((w) => [
    w.windowStart,
    w.windowEnd,
    w.used,
  ]);
const entitlement = async (tenant: string, feature: string) =>
  ((await (await client()).get(`/v1/tenants/${tenant}/entitlements`)).body.data.features as { feature: string }[]).find(
    (f) => f.feature === feature,
  );
async function subscribed(price: string) {
  clock.set(JAN_1);
  const tenant = await createTenant(landlord.admin, wired.product.name);
  expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price })).status).toBe(201);
  return tenant;
}
async function change(tenant: string, body: Record<string, unknown>) {
  const asked = await (await client()).post(`/v1/tenants/${tenant}/subscription/changes`, body);
  expect(asked.status, asked.text).toBe(201);
  return eventually(async () => {
    const read = await (await client()).get(`/v1/tenants/${tenant}/subscription/changes/${asked.body.data.id}`);
    return read.body.data.status === 'applied' ? read.body.data : undefined;
  });
}
const iso = (iso: string) => d(iso).toISOString();

describe('usage windows before an anchor-changing plan change stay as they were', () => {
  it('a trial’s monthly window ends at the trial’s end (moved by an operator); a late event from the trial counts in it after the anchor moved', async () => {
    const tenant = await subscribed(prices.trial);
    clock.set(d('01-05T00:00:00.000'));
    expect(await report(tenant.name, { feature: 'api_calls', quantity: 10, at: d('01-05T00:00:00.000') })).toEqual(['accepted']);
    expect(await entitlement(tenant.name, 'api_calls')).toMatchObject({
      windowStart: iso('01-01T00:00:00.000'),
      windowEnd: iso('01-15T00:00:00.000'),
    });
    // An operator extends the trial: the stored window (and the answer) end at the new trial end.
    const extended = await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription/trial/extend`, {
      endsAt: iso('01-20T00:00:00.000'),
    });
    expect(extended.status, extended.text).toBe(200);
    expect(await entitlement(tenant.name, 'api_calls')).toMatchObject({ used: 10, windowEnd: iso('01-20T00:00:00.000') });
    expect(await windows(tenant.name, 'api_calls')).toEqual([[iso('01-01T00:00:00.000'), iso('01-20T00:00:00.000'), 10]]);
    clock.set(d('01-20T00:30:00.000'));
    await landlord.node.sweeps.get('renewals')?.runNow();
    expect((await (await client()).get(`/v1/tenants/${tenant.name}/subscription`)).body.data).toMatchObject({
      status: 'active',
      anchorAt: iso('01-20T00:00:00.000'),
    });
    // Reported late (within the grace) from the trial, and one after it: each in the window of its own time.
    expect(
      await report(
        tenant.name,
        { feature: 'api_calls', quantity: 1, at: d('01-19T23:00:00.000') },
        { feature: 'api_calls', quantity: 2, at: d('01-20T00:10:00.000') },
      ),
    ).toEqual(['accepted', 'accepted']);
    expect(await windows(tenant.name, 'api_calls')).toEqual([
      [iso('01-01T00:00:00.000'), iso('01-20T00:00:00.000'), 11],
      [iso('01-20T00:00:00.000'), iso('02-20T00:00:00.000'), 2],
    ]);
  });

  it('a change to a yearly price keeps the weekly windows before its new anchor, and ends the one it falls in there', async () => {
    // Weekly windows count from Fri Jan 1; the yearly cycle starts at the monthly period's end, Feb 1 (a Monday).
    const tenant = await subscribed(prices.basic);
    clock.set(d('01-05T00:00:00.000'));
    expect(await report(tenant.name, { feature: 'exports', quantity: 3, at: d('01-05T00:00:00.000') })).toEqual(['accepted']);
    clock.set(d('01-29T12:00:00.000'));
    expect(await report(tenant.name, { feature: 'exports', quantity: 2, at: d('01-29T12:00:00.000') })).toEqual(['accepted']);
    clock.set(d('01-30T00:00:00.000'));
    const applied = await change(tenant.name, { price: prices.proYearly, timing: 'now' });
    expect(applied).toMatchObject({ kind: 'upgrade', timing: 'now' });
    expect(await entitlement(tenant.name, 'exports')).toMatchObject({
      limit: 50,
      used: 2,
      windowStart: iso('01-29T00:00:00.000'),
      windowEnd: iso('02-01T00:00:00.000'),
    });
    clock.set(d('02-01T00:00:00.000'));
    expect(await report(tenant.name, { feature: 'exports', quantity: 4, at: d('02-01T00:00:00.000') })).toEqual(['accepted']);
    expect(await windows(tenant.name, 'exports')).toEqual([
      [iso('01-01T00:00:00.000'), iso('01-08T00:00:00.000'), 3],
      [iso('01-29T00:00:00.000'), iso('02-01T00:00:00.000'), 2],
      [iso('02-01T00:00:00.000'), iso('02-08T00:00:00.000'), 4],
    ]);
  });
});

describe('thresholds are judged against the plan in force at each event’s time', () => {
  async function upgradedWith90() {
    const tenant = await subscribed(prices.basic);
    clock.set(d('01-05T00:00:00.000'));
    expect(await report(tenant.name, { feature: 'api_calls', quantity: 90, at: d('01-05T00:00:00.000') })).toEqual(['accepted']);
    clock.set(d('01-15T00:00:00.000'));
    expect(await change(tenant.name, { price: prices.pro })).toMatchObject({ kind: 'upgrade', timing: 'now' });
    clock.set(d('01-15T02:00:00.000'));
    return tenant;
  }
  const flags = async (tenantId: string) =>
    Object.fromEntries(
      (
        await landlord.node.services.db
          .selectFrom('usage_events')
          .select(['producer_id', 'over_limit'])
          .where('tenant_id', '=', tenantId)
          .execute()
      ).map((row) => [row.producer_id, row.over_limit]),
    );

  it('a late event under the old plan that passes its limit reaches it, even after an event under the new plan', async () => {
    const tenant = await upgradedWith90();
    const late = `b-${uniqueName('e')}`;
    // Stored in producer-id order: Pro's event (a-) first, then Basic's (b-), which takes the month to 106 > Basic's 100.
    expect(
      await report(
        tenant.name,
        { id: `a-${uniqueName('e')}`, feature: 'api_calls', quantity: 1, at: d('01-15T01:00:00.000') },
        { id: late, feature: 'api_calls', quantity: 15, at: d('01-14T00:00:00.000') },
      ),
    ).toEqual(['accepted', 'accepted']);
    const reached = await eventsOf(landlord, tenant.id, 'usage.limit_reached');
    expect(reached.map((event) => event.data)).toMatchObject([{ feature: 'api_calls', threshold: 100, limit: 100, used: 106 }]);
    expect((await flags(tenant.id))[late]).toBe(true);
  });

  it('an event under the new plan is not judged against the old plan’s limit, even after a late one under it', async () => {
    const tenant = await upgradedWith90();
    // Basic's late event (a-) takes the month to 95, under its 100; Pro's (b-) to 105, far under its 800 and 1000.
    expect(
      await report(
        tenant.name,
        { id: `a-${uniqueName('e')}`, feature: 'api_calls', quantity: 5, at: d('01-14T00:00:00.000') },
        { id: `b-${uniqueName('e')}`, feature: 'api_calls', quantity: 10, at: d('01-15T01:00:00.000') },
      ),
    ).toEqual(['accepted', 'accepted']);
    expect(await eventsOf(landlord, tenant.id, 'usage.limit_reached')).toEqual([]);
    expect(Object.values(await flags(tenant.id))).toEqual([false, false, false]);
  });
});
