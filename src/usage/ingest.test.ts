import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { manualClock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { type EventRow, insertUsageBatch, neededTransaction } from './ingest.repo.ts';
import { eventsOf, subscribedTenant, type UsageProduct, usageEvent, usageProduct } from './usage.test-support.ts';

let landlord: TestLandlord;
let product: UsageProduct;
let other: UsageProduct;
const clock = manualClock(new Date('2026-03-10T12:00:00Z'));
const now = () => clock.now();

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  product = await usageProduct(landlord, {
    api_calls: { limit: 100, reset: 'month', enforcement: 'hard' },
    storage: { limit: null },
    sso: { type: 'boolean' },
  });
  await landlord.admin.post(`/v1/products/${product.name}/features`, { name: 'exports', displayName: 'Exports', type: 'number' });
  other = await usageProduct(landlord, { api_calls: { limit: 10, reset: 'day' } });
});
afterAll(async () => {
  await landlord?.close();
});

const usageOf = async (tenant: string, feature = 'api_calls') =>
  (await landlord.admin.get(`/v1/tenants/${tenant}/usage?feature=${feature}`)).body.data as { used: number; events: number }[];

describe('POST /v1/usage', () => {
  it('accepts and counts every event, and a retried batch is all duplicates counted once', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const events = [
      usageEvent(tenant.name, 'api_calls', 3, now()),
      usageEvent(tenant.id, 'api_calls', 4, now(), { properties: { route: '/x' } }),
    ];
    const first = await product.client.post('/v1/usage', { events });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0 });
    expect(first.body.data.events.map((e: { outcome: string }) => e.outcome)).toEqual(['accepted', 'accepted']);
    const again = await product.client.post('/v1/usage', { events });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ accepted: 0, duplicates: 2, rejected: 0 });
    expect(await usageOf(tenant.name)).toMatchObject([{ used: 7, events: 2 }]);
  });

  it('rejects the same id with another body as a conflict, and a repeat inside one batch is judged against the first', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const event = usageEvent(tenant.name, 'api_calls', 1, now());
    await product.client.post('/v1/usage', { events: [event] });
    const answer = await product.client.post('/v1/usage', {
      events: [
        { ...event, quantity: 2 },
        usageEvent(tenant.name, 'api_calls', 5, now(), { id: 'twice' }),
        usageEvent(tenant.name, 'api_calls', 5, now(), { id: 'twice' }),
        usageEvent(tenant.name, 'api_calls', 6, now(), { id: 'twice' }),
      ],
    });
    expect(answer.body.data.events).toMatchObject([
      { outcome: 'rejected', code: 'usage.conflict' },
      { outcome: 'accepted' },
      { outcome: 'duplicate' },
      { outcome: 'rejected', code: 'usage.conflict' },
    ]);
    expect(await usageOf(tenant.name)).toMatchObject([{ used: 6, events: 2 }]);
  });

  it('rejects events it cannot count, each with its code, and counts the rest', async () => {
    const tenant = await subscribedTenant(landlord, product, { since: new Date('2026-03-01T00:00:00Z'), clock });
    const foreign = await subscribedTenant(landlord, other);
    const answer = await product.client.post('/v1/usage', {
      events: [
        usageEvent('no-such-tenant', 'api_calls', 1, now()),
        usageEvent(foreign.name, 'api_calls', 1, now()),
        usageEvent(tenant.name, 'api_calls', 1, new Date(now().getTime() + 5 * 60_000 + 1)),
        usageEvent(tenant.name, 'api_calls', 1, new Date('2026-02-28T23:59:59.999Z')),
        usageEvent(tenant.name, 'exports', 1, now()),
        usageEvent(tenant.name, 'api_calls', 1, new Date(now().getTime() + 5 * 60_000)),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data.events.map((e: { code?: string; outcome: string }) => e.code ?? e.outcome)).toEqual([
      'usage.tenant_not_found',
      'usage.tenant_not_found',
      'usage.in_future',
      'usage.no_subscription',
      'usage.feature_not_in_plan',
      'accepted',
    ]);
    expect(answer.body.data).toMatchObject({ accepted: 1, rejected: 5 });
  });

  it('accepts a late event until the grace after its window ends, then rejects it', async () => {
    // Anchored on the 10th at 12:00: the window before ends 2026-03-10T12:00Z.
    const tenant = await subscribedTenant(landlord, product, { since: new Date('2026-01-10T12:00:00Z'), clock });
    const lastWindow = new Date('2026-03-10T11:59:59Z');
    // The operator key, not the client's token: moving the clock an hour would expire the token.
    const send = () =>
      landlord.admin.post('/v1/usage', { product: product.name, events: [usageEvent(tenant.name, 'api_calls', 1, lastWindow)] });
    try {
      clock.set(new Date('2026-03-10T13:00:00Z')); // exactly the grace (60 min) after the end: closed
      expect((await send()).body.data.events[0]).toMatchObject({ outcome: 'rejected', code: 'usage.window_closed' });
      clock.set(new Date('2026-03-10T12:59:59.999Z'));
      expect((await send()).body.data.events[0]).toMatchObject({ outcome: 'accepted' });
    } finally {
      clock.set(new Date('2026-03-10T12:00:00Z'));
    }
    const windows = (await landlord.admin.get(`/v1/tenants/${tenant.name}/usage`)).body.data;
    expect(windows).toMatchObject([
      { feature: 'api_calls', windowStart: '2026-02-10T12:00:00.000Z', windowEnd: '2026-03-10T12:00:00.000Z', used: 1 },
    ]);
  });

  it('refuses a malformed batch with a 400 naming events.N.field and stores nothing', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const good = usageEvent(tenant.name, 'api_calls', 1, now());
    const cases: [unknown, string][] = [
      [{ events: [good, { ...usageEvent(tenant.name, 'api_calls', 1, now()), quantity: -1 }] }, 'events.1.quantity'],
      [{ events: [good, usageEvent(tenant.name, 'no_such_feature', 1, now())] }, 'events.1.feature'],
      [{ events: [good, usageEvent(tenant.name, 'sso', 1, now())] }, 'events.1.feature'],
      [{ events: [good, { ...usageEvent(tenant.name, 'api_calls', 1, now()), timestamp: 'yesterday' }] }, 'events.1.timestamp'],
      [{ events: [good, { ...usageEvent(tenant.name, 'api_calls', 1, now()), extra: 1 }] }, 'events.1.extra'],
      [{ events: [good, { ...usageEvent(tenant.name, 'api_calls', 1, now()), id: '' }] }, 'events.1.id'],
      [{ events: Array.from({ length: 1001 }, () => good) }, 'events'],
      [{ events: [] }, 'events'],
    ];
    for (const [body, parameter] of cases) {
      const answer = await product.client.post('/v1/usage', body);
      expect(answer.status, parameter).toBe(400);
      expect(answer.body.metadata.errors[0].parameter, JSON.stringify(answer.body.metadata.errors)).toBe(parameter);
    }
    expect(await usageOf(tenant.name)).toEqual([]);
  });

  it('answers 401 without a credential, and an operator of all products must name the product', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const event = usageEvent(tenant.name, 'api_calls', 1, now());
    expect((await landlord.as(undefined).post('/v1/usage', { events: [event] })).status).toBe(401);
    const unnamed = await landlord.admin.post('/v1/usage', { events: [event] });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.metadata.errors[0].parameter).toBe('product');
    const named = await landlord.admin.post('/v1/usage', { product: product.name, events: [event] });
    expect(named.body.data.accepted).toBe(1);
    const foreign = await other.client.post('/v1/usage', {
      product: product.name,
      events: [usageEvent(tenant.name, 'api_calls', 1, now())],
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.metadata.errors[0].code).toBe('product.not_found');
  });

  it('flags the events that took a window past its limit, and still counts them', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const events = [
      usageEvent(tenant.name, 'api_calls', 60, now()),
      usageEvent(tenant.name, 'api_calls', 40, now()),
      usageEvent(tenant.name, 'api_calls', 1, now()),
    ];
    await product.client.post('/v1/usage', { events });
    const flags = await landlord.node.services.db
      .selectFrom('usage_events')
      .select(['producer_id', 'over_limit'])
      .where('tenant_id', '=', tenant.id)
      .execute();
    const flagged = Object.fromEntries(flags.map((row) => [row.producer_id, row.over_limit]));
    // Stored in producer-id order (the ids are time-ordered): 60, 40 reach the limit of 100; the last goes past it.
    expect(flagged).toEqual({ [events[0]!.id]: false, [events[1]!.id]: false, [events[2]!.id]: true });
    expect(await usageOf(tenant.name)).toMatchObject([{ used: 101 }]);
  });
});

describe('one statement, or a transaction when more must commit with it', () => {
  it('run alone, the batch statement writes nothing and refuses a batch that crosses a threshold; the API writes it with its event', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const { db } = landlord.node.services;
    const window = (await product.client.get(`/v1/tenants/${tenant.name}/entitlements`)).body.data.features.find(
      (feature: { feature: string }) => feature.feature === 'api_calls',
    );
    const planFeature = await db
      .selectFrom('plan_features')
      .innerJoin('features', 'features.id', 'plan_features.feature_id')
      .select(['plan_features.id', 'features.id as feature_id'])
      .where('features.product_id', '=', product.id)
      .where('features.name', '=', 'api_calls')
      .executeTakeFirstOrThrow();
    const row = (quantity: number): EventRow => ({
      producerId: `evt-${newId()}`,
      tenantId: tenant.id,
      featureId: planFeature.feature_id,
      planFeatureId: planFeature.id,
      quantity,
      occurredAt: now(),
      windowStart: new Date(window.windowStart),
      windowEnd: new Date(window.windowEnd),
      properties: null,
      bodyHash: '00'.repeat(32),
    });
    const times = { now: now(), realNow: now() };
    expect((await insertUsageBatch(db, product.id, times, [row(10)], { alone: true })).inserted).toHaveLength(1);
    // 10 + 75 crosses 80 % of the limit of 100: its event must commit with it, so alone it writes nothing.
    const refused = await insertUsageBatch(db, product.id, times, [row(75), row(1)], { alone: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(neededTransaction(refused)).toBe(true);
    expect(await usageOf(tenant.name)).toMatchObject([{ used: 10, events: 1 }]);
    expect(await eventsOf(landlord, tenant.id, 'usage.threshold_reached')).toEqual([]);
    const answer = await product.client.post('/v1/usage', { events: [usageEvent(tenant.name, 'api_calls', 75, now())] });
    expect(answer.body.data.accepted).toBe(1);
    expect(await usageOf(tenant.name)).toMatchObject([{ used: 85, events: 2 }]);
    expect((await eventsOf(landlord, tenant.id, 'usage.threshold_reached')).map((event) => event.data)).toMatchObject([
      { threshold: 80, limit: 100, used: 85 },
    ]);
  });
});

describe('concurrency', () => {
  it('counts the same batch sent twice at the same moment once', async () => {
    const tenant = await subscribedTenant(landlord, product);
    const events = Array.from({ length: 200 }, (_, i) => usageEvent(tenant.name, 'storage', i + 1, now()));
    const answers = await Promise.all([product.client.post('/v1/usage', { events }), product.client.post('/v1/usage', { events })]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[0]!.body.data.accepted + answers[1]!.body.data.accepted).toBe(200);
    expect(answers[0]!.body.data.duplicates + answers[1]!.body.data.duplicates).toBe(200);
    expect(await usageOf(tenant.name, 'storage')).toMatchObject([{ used: (200 * 201) / 2, events: 200 }]);
  });

  it('emits one limit_reached when batches cross the limit together (2 and 4 at once)', async () => {
    for (const parallel of [2, 2, 2, 4, 4]) {
      const tenant = await subscribedTenant(landlord, product);
      // Each batch alone stays under 80 % of the limit of 100; together they pass both thresholds.
      const each = Math.ceil(120 / parallel / 10);
      const batch = () => ({ events: Array.from({ length: 10 }, () => usageEvent(tenant.name, 'api_calls', each, now())) });
      const answers = await Promise.all(Array.from({ length: parallel }, () => product.client.post('/v1/usage', batch())));
      expect(answers.map((a) => a.body.data.accepted)).toEqual(Array(parallel).fill(10));
      expect(await eventsOf(landlord, tenant.id, 'usage.limit_reached')).toHaveLength(1);
      expect(await eventsOf(landlord, tenant.id, 'usage.threshold_reached')).toHaveLength(1);
    }
  });
});

describe('plan feature usage settings', () => {
  it('attach and change enforcement, thresholds and the overage price; bad values are a 400 naming the field', async () => {
    const path = `/v1/products/${product.name}/plans/${product.plan}/features`;
    await landlord.admin.post(`/v1/products/${product.name}/features`, { name: 'reports', displayName: 'Reports', type: 'number' });
    const attached = await landlord.admin.post(path, {
      feature: 'reports',
      limit: 5,
      enforcement: 'hard',
      thresholds: [50, 100],
      overageUnitPrice: 3,
    });
    expect(attached.status).toBe(201);
    expect(attached.body.data).toMatchObject({ enforcement: 'hard', thresholds: [50, 100], overageUnitPrice: 3 });
    const changed = await landlord.admin.patch(`${path}/reports`, { enforcement: 'soft', overageUnitPrice: null });
    expect(changed.body.data).toMatchObject({ enforcement: 'soft', thresholds: [50, 100], overageUnitPrice: null });
    const defaults = (await landlord.admin.get(`${path}/api_calls`)).body.data;
    expect(defaults).toMatchObject({ enforcement: 'hard', thresholds: [80, 100], overageUnitPrice: null });
    for (const [body, parameter] of [
      [{ thresholds: [0] }, 'thresholds.0'],
      [{ thresholds: [80, 80] }, 'thresholds'],
      [{ enforcement: 'strict' }, 'enforcement'],
      [{ overageUnitPrice: -1 }, 'overageUnitPrice'],
    ] as const) {
      const refused = await landlord.admin.patch(`${path}/reports`, body);
      expect(refused.status).toBe(400);
      expect(refused.body.metadata.errors[0].parameter).toBe(parameter);
    }
  });
});
