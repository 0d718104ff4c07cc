import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { asConnection } from '../people/people.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { eventsOf, subscribedTenant, type UsageProduct, usageEvent, usageProduct } from './usage.test-support.ts';
import { notifyUsageChange } from './usage-events.ts';

let landlord: TestLandlord;
let second: TestLandlord;
let product: UsageProduct;
let other: UsageProduct;
const clock = manualClock(new Date('2026-03-10T12:00:00Z'));
const now = () => clock.now();

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  // A second node on the same database: its cache hears about changes only through NOTIFY.
  second = await startTestLandlord({ clock, database: landlord.database });
  product = await usageProduct(landlord, {
    api_calls: { limit: 100, reset: 'month', enforcement: 'hard' },
    seats: { limit: 5, reset: 'never' },
    storage: { limit: null, reset: 'day' },
    sso: { type: 'boolean' },
  });
  await landlord.admin.post(`/v1/products/${product.name}/features`, { name: 'exports', displayName: 'Exports', type: 'number' });
  other = await usageProduct(landlord, { api_calls: { limit: 10 } });
});
afterAll(async () => {
  await second?.close();
  await landlord?.close();
});

const report = (tenant: string, feature: string, quantity: number) =>
  product.client.post('/v1/usage', { events: [usageEvent(tenant, feature, quantity, now())] });
const check = (client: UsageProduct['client'], tenant: string, feature: string, quantity?: number) =>
  client.post(`/v1/tenants/${tenant}/entitlements/${feature}/check`, quantity === undefined ? {} : { quantity });

describe('GET /v1/tenants/{tenant}/entitlements', () => {
  it('lists every feature of the plan with its limit, usage and window', async () => {
    const tenant = await subscribedTenant(landlord, product, { since: new Date('2026-01-31T09:00:00Z'), clock });
    await report(tenant.name, 'api_calls', 30);
    const answer = await product.client.get(`/v1/tenants/${tenant.name}/entitlements`);
    expect(answer.status).toBe(200);
    expect(answer.body.data.tenant).toMatchObject({ id: tenant.id, name: tenant.name, status: 'active' });
    expect(answer.body.data.plan.name).toBe(product.plan);
    const byName = Object.fromEntries(answer.body.data.features.map((f: { feature: string }) => [f.feature, f]));
    // Anchored on Jan 31: the window containing Mar 10 runs from Feb 28 to Mar 31, 09:00 UTC.
    expect(byName.api_calls).toEqual({
      feature: 'api_calls',
      type: 'number',
      included: true,
      limit: 100,
      used: 30,
      remaining: 70,
      reset: 'month',
      windowStart: '2026-02-28T09:00:00.000Z',
      windowEnd: '2026-03-31T09:00:00.000Z',
      enforcement: 'hard',
      overLimit: false,
    });
    expect(byName.seats).toMatchObject({ limit: 5, used: 0, windowStart: '2026-01-31T09:00:00.000Z', windowEnd: null });
    expect(byName.storage).toMatchObject({ limit: null, remaining: null, windowStart: '2026-03-10T00:00:00.000Z' });
    expect(byName.sso).toMatchObject({ type: 'boolean', included: true, limit: null, windowStart: null });
  });

  it('is 404 for another product’s client, an unknown tenant, and 401 without a credential', async () => {
    const tenant = await subscribedTenant(landlord, product);
    expect((await other.client.get(`/v1/tenants/${tenant.name}/entitlements`)).status).toBe(404);
    expect((await product.client.get('/v1/tenants/no-such-tenant/entitlements')).body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await landlord.as(undefined).get(`/v1/tenants/${tenant.name}/entitlements`)).status).toBe(401);
    const productAdmin = landlord.as(await productAdminKey(landlord, product.name));
    expect((await productAdmin.get(`/v1/tenants/${tenant.id}/entitlements`)).status).toBe(200);
  });
});

describe('POST /v1/tenants/{tenant}/entitlements/{feature}/check', () => {
  it('allows up to a hard limit, always a soft one, and a boolean feature the plan includes', async () => {
    const tenant = await subscribedTenant(landlord, product);
    await report(tenant.name, 'api_calls', 99);
    expect((await check(product.client, tenant.name, 'api_calls')).body.data).toEqual({
      allowed: true,
      used: 99,
      limit: 100,
      remaining: 1,
    });
    expect((await check(product.client, tenant.name, 'api_calls', 2)).body.data).toMatchObject({ allowed: false });
    await report(tenant.name, 'seats', 7);
    expect((await check(product.client, tenant.name, 'seats', 1)).body.data).toEqual({ allowed: true, used: 7, limit: 5, remaining: 0 });
    expect((await check(product.client, tenant.name, 'sso')).body.data.allowed).toBe(true);
    expect((await check(product.client, tenant.name, 'exports')).body.data).toEqual({ allowed: false, used: 0, limit: 0, remaining: 0 });
  });

  it('sees usage reported through another node at once (NOTIFY), and refuses a tenant that is not live', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const onSecond = second.as(product.token);
    const viaSecond = async () => (await check(onSecond, tenant.name, 'api_calls', 100)).body.data;
    expect((await viaSecond()).allowed).toBe(true); // now cached on the second node
    expect((await check(product.client, tenant.name, 'api_calls', 100)).body.data.allowed).toBe(true);
    await report(tenant.name, 'api_calls', 1);
    await eventually(async () => ((await viaSecond()).used === 1 ? true : undefined), 10_000, 'second node sees the usage');
    expect((await viaSecond()).allowed).toBe(false);
    const inactive = await subscribedTenant(landlord, product, { status: 'inactive' });
    expect((await check(product.client, inactive.name, 'sso')).body.data.allowed).toBe(false);
    expect((await check(product.client, inactive.name, 'api_calls')).body.data.allowed).toBe(false);
  });

  it('answers from memory: a total changed behind its back is seen only once a change is notified', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const { db } = landlord.node.services;
    await report(tenant.name, 'api_calls', 10);
    const used = async () => (await check(product.client, tenant.name, 'api_calls')).body.data.used as number;
    // The report's own NOTIFY may still arrive after the first check cached: then a round sees the new value; a cache would not twice.
    let cached = false;
    for (let round = 1; round <= 5 && !cached; round++) {
      const before = await used();
      await db
        .updateTable('usage_totals')
        .set({ quantity: 100 + round })
        .where('tenant_id', '=', tenant.id)
        .execute();
      cached = (await used()) === before;
    }
    expect(cached).toBe(true);
    await notifyUsageChange(db, [tenant.id]);
    await eventually(async () => ((await used()) > 100 ? true : undefined), 10_000, 'notified');
  });

  it('sees a plan’s new limit and a canceled subscription at once, on this node and the other', async () => {
    const own = await usageProduct(landlord, { api_calls: { limit: 10, reset: 'month', enforcement: 'hard' } });
    const tenant = await subscribedTenant(landlord, own);
    await own.client.post('/v1/usage', { events: [usageEvent(tenant.name, 'api_calls', 10, now())] });
    const onSecond = second.as(own.token);
    expect((await check(own.client, tenant.name, 'api_calls')).body.data.allowed).toBe(false);
    expect((await check(onSecond, tenant.name, 'api_calls')).body.data.allowed).toBe(false);
    await landlord.admin.patch(`/v1/products/${own.name}/plans/${own.plan}/features/api_calls`, { limit: 20 });
    expect((await check(own.client, tenant.name, 'api_calls')).body.data).toEqual({ allowed: true, used: 10, limit: 20, remaining: 10 });
    await eventually(
      async () => ((await check(onSecond, tenant.name, 'api_calls')).body.data.limit === 20 ? true : undefined),
      10_000,
      'second node',
    );
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription/cancel`, { when: 'now' })).status).toBe(200);
    await eventually(
      async () => ((await check(onSecond, tenant.name, 'api_calls')).body.data.allowed === false ? true : undefined),
      10_000,
      'canceled',
    );
    expect((await own.client.get(`/v1/tenants/${tenant.name}/entitlements`)).body.data).toMatchObject({ plan: null, features: [] });
  });

  it('answers 404 for a feature the product does not have, another product’s client and an unknown tenant; 400 for a bad quantity', async () => {
    const tenant = await subscribedTenant(landlord, product);
    expect((await check(product.client, tenant.name, 'no_such_feature')).body.metadata.errors[0]).toMatchObject({
      code: 'feature.not_found',
      parameter: 'feature',
    });
    expect((await check(other.client, tenant.name, 'api_calls')).status).toBe(404);
    expect((await check(product.client, 'no-such-tenant', 'api_calls')).status).toBe(404);
    const bad = await check(product.client, tenant.name, 'api_calls', -1);
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('quantity');
  });
});

describe('a tenant’s own API connection', () => {
  it('reads its own entitlements and usage with tenant_statistics, nothing of another tenant, and nothing without the permission', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const neighbour = await subscribedTenant(landlord, product);
    const make = async (permissions: string[]) =>
      (await product.client.post(`/v1/tenants/${tenant.name}/connections`, { name: `c-${permissions.join('-')}`, permissions })).body.data;
    const reader = asConnection(landlord, await make(['tenant_statistics']));
    const payer = asConnection(landlord, await make(['tenant_payment']));
    const stranger = asConnection(landlord, await make(['user_management']));
    await report(tenant.name, 'api_calls', 3);
    expect((await reader.get(`/v1/tenants/${tenant.name}/entitlements`)).status).toBe(200);
    expect((await payer.get(`/v1/tenants/${tenant.id}/usage`)).body.data).toMatchObject([{ feature: 'api_calls', used: 3 }]);
    expect((await reader.post(`/v1/tenants/${tenant.name}/entitlements/api_calls/check`, { quantity: 1 })).body.data.allowed).toBe(true);
    expect((await reader.get(`/v1/tenants/${neighbour.name}/entitlements`)).status).toBe(404);
    expect((await reader.get(`/v1/tenants/${neighbour.name}/usage`)).status).toBe(404);
    expect((await stranger.get(`/v1/tenants/${tenant.name}/entitlements`)).status).toBe(403);
    // A connection is never an operator: it cannot correct usage or report it.
    expect(
      (await reader.post(`/v1/tenants/${tenant.name}/usage/adjustments`, { feature: 'api_calls', quantity: -3, reason: 'x' })).status,
    ).toBe(401);
  });
});

describe('GET /v1/tenants/{tenant}/usage and adjustments', () => {
  it('filters windows by feature and range, and an adjustment corrects the total (audited) and clears the limit', async () => {
    const tenant = await subscribedTenant(landlord, product);
    await report(tenant.name, 'api_calls', 100);
    expect(await eventsOf(landlord, tenant.id, 'usage.limit_reached')).toHaveLength(1);
    const adjusted = await landlord.admin.post(`/v1/tenants/${tenant.name}/usage/adjustments`, {
      feature: 'api_calls',
      quantity: -30,
      reason: 'refund of a retry storm',
    });
    expect(adjusted.status).toBe(201);
    expect(adjusted.body.data).toMatchObject({ feature: 'api_calls', quantity: -30, used: 70 });
    const cleared = await eventsOf(landlord, tenant.id, 'usage.limit_cleared');
    expect(cleared).toHaveLength(1);
    expect(cleared[0]!.data).toMatchObject({ reason: 'correction', used: 70, limit: 100 });
    expect((await check(product.client, tenant.name, 'api_calls', 30)).body.data).toMatchObject({ allowed: true, used: 70 });
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['action', 'actor_type'])
      .where('object_id', '=', adjusted.body.data.id)
      .execute();
    expect(audit).toEqual([{ action: 'usage_adjustment.create', actor_type: 'admin_key' }]);
    // Crossing again re-arms the limit.
    await report(tenant.name, 'api_calls', 30);
    expect(await eventsOf(landlord, tenant.id, 'usage.limit_reached')).toHaveLength(2);
    const windows = await landlord.admin.get(
      `/v1/tenants/${tenant.name}/usage?feature=api_calls&from=2026-03-10T12:00:00Z&to=2026-04-10T12:00:00Z`,
    );
    expect(windows.body.data).toMatchObject([{ feature: 'api_calls', used: 100, eventQuantity: 130, adjusted: -30, events: 2 }]);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/usage?from=2026-03-10T12:00:00.001Z`)).body.data).toEqual([]);
  });

  it('pages the usage list with a cursor, in window start then feature order, and refuses a garbled cursor', async () => {
    const tenant = await subscribedTenant(landlord, product, { since: new Date('2026-01-31T09:00:00Z'), clock });
    for (const feature of ['storage', 'api_calls', 'seats']) expect((await report(tenant.name, feature, 1)).body.data.accepted).toBe(1);
    const first = await product.client.get(`/v1/tenants/${tenant.name}/usage?limit=2`);
    expect(first.status).toBe(200);
    // seats never resets (its window starts with the subscription), api_calls is monthly, storage daily.
    expect(first.body.data.map((w: { feature: string }) => w.feature)).toEqual(['seats', 'api_calls']);
    expect(first.body.metadata.pagination).toMatchObject({ limit: 2, nextCursor: expect.any(String) });
    const rest = await product.client.get(`/v1/tenants/${tenant.name}/usage?limit=2&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect(rest.body.data.map((w: { feature: string }) => w.feature)).toEqual(['storage']);
    expect(rest.body.metadata.pagination.nextCursor).toBeNull();
    const garbled = await product.client.get(`/v1/tenants/${tenant.name}/usage?cursor=${Buffer.from('yesterday').toString('base64url')}`);
    expect(garbled.status).toBe(400);
    expect(garbled.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid_cursor', parameter: 'cursor' });
  });

  it('refuses bad adjustments naming the field, clients, and another product’s operator', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const post = (as: UsageProduct['client'], body: Record<string, unknown>) =>
      as.post(`/v1/tenants/${tenant.name}/usage/adjustments`, body);
    expect((await post(landlord.admin, { feature: 'api_calls', quantity: 0, reason: 'x' })).body.metadata.errors[0].parameter).toBe(
      'quantity',
    );
    expect((await post(landlord.admin, { feature: 'api_calls', quantity: 1 })).body.metadata.errors[0].parameter).toBe('reason');
    expect((await post(landlord.admin, { feature: 'nope', quantity: 1, reason: 'x' })).body.metadata.errors[0]).toMatchObject({
      code: 'feature.not_found',
    });
    expect((await post(landlord.admin, { feature: 'exports', quantity: 1, reason: 'x' })).status).toBe(422);
    expect((await post(product.client, { feature: 'api_calls', quantity: 1, reason: 'x' })).status).toBe(403);
    const foreignAdmin = landlord.as(await productAdminKey(landlord, other.name));
    expect((await post(foreignAdmin, { feature: 'api_calls', quantity: 1, reason: 'x' })).status).toBe(404);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/usage?from=yesterday`)).body.metadata.errors[0].parameter).toBe(
      'querystring.from',
    );
    expect((await other.client.get(`/v1/tenants/${tenant.name}/usage`)).status).toBe(404);
    expect((await product.client.get('/v1/tenants/no-such-tenant/usage')).body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await landlord.as(undefined).get(`/v1/tenants/${tenant.name}/usage`)).status).toBe(401);
    expect((await product.client.get(`/v1/tenants/${tenant.name}/usage`)).body.data).toEqual([]);
  });
});

describe('the usage-limits sweep', () => {
  it('clears a reached limit when its window ends, and when the plan’s limit is raised', async () => {
    const ended = await subscribedTenant(landlord, product, { since: new Date('2026-03-09T00:00:00Z'), clock });
    const raised = await subscribedTenant(landlord, other);
    await report(ended.name, 'api_calls', 100);
    await other.client.post('/v1/usage', { events: [usageEvent(raised.name, 'api_calls', 10, now())] });
    const sweep = landlord.node.sweeps.get('usage-limits');
    if (!sweep) throw new Error('no usage-limits sweep');
    await sweep.runNow();
    expect(await eventsOf(landlord, ended.id, 'usage.limit_cleared')).toHaveLength(0);
    await landlord.admin.patch(`/v1/products/${other.name}/plans/${other.plan}/features/api_calls`, { limit: 20 });
    const clearedOf = (tenantId: string) => async () => (await eventsOf(landlord, tenantId, 'usage.limit_cleared'))[0];
    let endedCleared: Awaited<ReturnType<ReturnType<typeof clearedOf>>>;
    let raisedCleared: typeof endedCleared;
    try {
      clock.set(new Date('2026-04-09T00:00:00Z'));
      await sweep.runNow();
      // The second node sweeps the same crossings on its own schedule (SKIP LOCKED), so it may be the one that clears
      // one and commit after runNow returned: wait for both events while the shared clock still says 9 April.
      endedCleared = await eventually(clearedOf(ended.id), 20_000, 'the ended window cleared');
      raisedCleared = await eventually(clearedOf(raised.id), 20_000, 'the raised limit cleared');
    } finally {
      clock.set(new Date('2026-03-10T12:00:00Z'));
    }
    expect(endedCleared.data).toMatchObject({
      reason: 'new_window',
      windowEnd: '2026-04-09T00:00:00.000Z',
    });
    expect(raisedCleared.data).toMatchObject({
      reason: 'limit_raised',
      limit: 20,
      used: 10,
    });
  });
});

describe('GET|PUT /v1/products/{product}/usage-settings', () => {
  it('reads and changes the grace (operators only)', async () => {
    expect((await landlord.admin.get(`/v1/products/${product.name}/usage-settings`)).body.data).toEqual({ graceMinutes: 60 });
    expect((await product.client.put(`/v1/products/${product.name}/usage-settings`, { graceMinutes: 5 })).status).toBe(403);
    expect(
      (await landlord.admin.put(`/v1/products/${product.name}/usage-settings`, { graceMinutes: -1 })).body.metadata.errors[0].parameter,
    ).toBe('graceMinutes');
    expect((await other.client.get(`/v1/products/${product.name}/usage-settings`)).status).toBe(404);
    expect((await landlord.admin.put(`/v1/products/${product.name}/usage-settings`, { graceMinutes: 90 })).body.data).toEqual({
      graceMinutes: 90,
    });
    await landlord.admin.put(`/v1/products/${product.name}/usage-settings`, { graceMinutes: 60 });
  });
});
