import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../test/helpers/backend-simulator.ts';
import { type BackendSimulator, type Behaviour, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createTenant } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { ROSAAS, tenantOf, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { manualClock } from '../platform/clock.ts';
import { publishedPrice } from './plan-changes.test-support.ts';

const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const JAN_15 = new Date('2027-01-15T00:00:00.000Z');
const FEB_1 = new Date('2027-02-01T00:00:00.000Z');
const CALLBACK_TIMEOUT_SECONDS = 600;

const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let backend: BackendSimulator;
let callback: WiredProduct;
let response: WiredProduct;
const prices: Record<'callback' | 'response', { p100: { id: string; name: string }; p200: { id: string; name: string } }> = {} as never;
// How the backend answers each tenant's calls (default: 200).
const answers = new Map<string, (request: RecordedRequest) => Behaviour>();

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  backend.behave((request) => answers.get(tenantOf(request.path))?.(request) ?? { status: 200, body: {} });
  callback = await wireProduct(landlord, backend, { mode: 'callback', callbackTimeoutSeconds: CALLBACK_TIMEOUT_SECONDS });
  response = await wireProduct(landlord, backend, { mode: 'response' });
  for (const [key, wired] of [
    ['callback', callback],
    ['response', response],
  ] as const) {
    prices[key] = {
      p100: await publishedPrice(landlord.admin, wired.product.name, 10_000),
      p200: await publishedPrice(landlord.admin, wired.product.name, 20_000),
    };
  }
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** A tenant of `wired` subscribed at `at` to `price`. */
async function subscribed(wired: WiredProduct, price: { name: string }, at = JAN_1) {
  clock.set(at);
  const tenant = await createTenant(landlord.admin, wired.product.name);
  const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: price.name });
  expect(created.status).toBe(201);
  return tenant as { id: string; name: string };
}

/** The product's backend as a client, logged in now (tokens expire on the moved clock). */
async function clientOf(wired: WiredProduct): Promise<ApiClient> {
  const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', {
    clientId: wired.clientId,
    clientSecret: wired.clientSecret,
  });
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${auth.text}`);
  return apiClient(landlord.url, auth.body.data.token.accessToken);
}

const changes = (tenant: { name: string }) => `/v1/tenants/${tenant.name}/subscription/changes`;

async function changeOf(wired: WiredProduct, tenant: { name: string }, id: string) {
  const read = await (await clientOf(wired)).get(`${changes(tenant)}/${id}`);
  expect(read.status).toBe(200);
  return read.body.data;
}

async function settled(wired: WiredProduct, tenant: { name: string }, id: string, status: string) {
  return eventually(async () => {
    const change = await changeOf(wired, tenant, id);
    return change.status === status ? change : undefined;
  });
}

async function eventTypes(tenantId: string) {
  const rows = await landlord.node.services.db
    .selectFrom('events')
    .select('type')
    .where('tenant_id', '=', tenantId)
    .where('type', 'like', 'subscription.plan_change%')
    .orderBy('tenant_seq')
    .execute();
  return rows.map((row) => row.type);
}

async function periodsOf(tenant: { name: string }) {
  const periods = await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription/periods`);
  return periods.body.data.map((p: any) => [p.number, p.priceId, p.amount, p.start]);
}

describe('an upgrade in response mode', () => {
  it("is called for at once, applied on the backend's 2xx, and prorated as the issue's example (−5,484 / +10,968)", async () => {
    const tenant = await subscribed(response, prices.response.p100);
    clock.set(JAN_15);
    const preview = await (await clientOf(response)).post(`${changes(tenant)}/preview`, { price: prices.response.p200.name });
    expect(preview.status).toBe(200);
    expect(preview.body.data).toMatchObject({ kind: 'upgrade', timing: 'now', total: 5_484 });
    expect(preview.body.data.lines.map((line: any) => [line.kind, line.amount, line.days, line.periodDays])).toEqual([
      ['credit', -5_484, 17, 31],
      ['charge', 10_968, 17, 31],
    ]);
    expect((await (await clientOf(response)).get(changes(tenant))).body.data).toEqual([]);

    const asked = await (await clientOf(response)).post(changes(tenant), { price: prices.response.p200.name });
    expect(asked.status).toBe(201);
    expect(asked.body.data).toMatchObject({ kind: 'upgrade', timing: 'now', status: 'calling', fromPriceId: prices.response.p100.id });
    const id = asked.body.data.id;
    const call = await backend.waitFor((request) => request.path === `/api/integration/${tenant.name}/upgrade`);
    expect(call.headers['idempotency-key']).toBe(id);
    expect(call.headers['api-key']).toBe(response.apiKey);
    expect(call.body).toMatchObject({
      tenantName: tenant.name,
      change: {
        id,
        type: 'upgrade',
        timing: 'now',
        from: { id: prices.response.p100.id },
        to: { id: prices.response.p200.id, amount: 20_000 },
      },
    });

    const applied = await settled(response, tenant, id, 'applied');
    expect(applied.proration).toEqual([
      { kind: 'credit', amount: -5_484, days: 17, periodDays: 31 },
      { kind: 'charge', amount: 10_968, days: 17, periodDays: 31 },
    ]);
    const subscription = (await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data;
    expect(subscription).toMatchObject({ priceId: prices.response.p200.id, amount: 20_000 });
    const invoice = (await landlord.admin.get(`/v1/invoices/${applied.invoiceId}`)).body.data;
    expect(invoice).toMatchObject({ status: 'open', total: 5_484 });
    expect(invoice.lines.map((line: any) => [line.kind, line.amount])).toEqual([
      ['proration', -5_484],
      ['proration', 10_968],
    ]);
    const row = await landlord.node.services.db
      .selectFrom('tenants')
      .select('plan_price_id')
      .where('id', '=', tenant.id)
      .executeTakeFirst();
    expect(row?.plan_price_id).toBe(prices.response.p200.id);
    expect(await eventTypes(tenant.id)).toEqual(['subscription.plan_change_requested', 'subscription.plan_changed']);
  });
});

describe('an upgrade in callback mode', () => {
  it('waits for the report (RoSaaS path); a repeated success report is a no-op, a report of another kind is refused', async () => {
    const tenant = await subscribed(callback, prices.callback.p100);
    clock.set(JAN_15);
    const asked = await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p200.name });
    const id = asked.body.data.id;
    const waiting = await settled(callback, tenant, id, 'awaiting_report');
    expect(new Date(waiting.reportDueAt).getTime()).toBe(JAN_15.getTime() + CALLBACK_TIMEOUT_SECONDS * 1000);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data.priceId).toBe(prices.callback.p100.id);

    const report = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, { note: 'done' });
    expect(report.status).toBe(200);
    expect(report.body.metadata.success).toBe(true);
    expect((await changeOf(callback, tenant, id)).status).toBe('applied');
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data.priceId).toBe(prices.callback.p200.id);

    const again = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, { note: 'again' });
    expect(again.status).toBe(200);
    const other = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/downgrade`, {});
    expect(other.status).toBe(409);
    expect(other.body.metadata).toMatchObject({ success: false, errors: [expect.objectContaining({ code: 'plan_change.not_in_flight' })] });
    expect(await eventTypes(tenant.id)).toEqual(['subscription.plan_change_requested', 'subscription.plan_changed']);
    const reports = (await landlord.admin.get(`/v1/tenants/${tenant.name}/history?kind=report`)).body.data;
    expect(reports.map((entry: any) => [entry.action, entry.detail.repeated ?? false])).toEqual([
      ['subscription_upgrade_applied', false],
      ['subscription_upgrade_applied', true],
    ]);
  });

  it('takes a report that comes before the answer; the late answer changes nothing but the timeline', async () => {
    const tenant = await subscribed(callback, prices.callback.p100);
    clock.set(JAN_15);
    answers.set(tenant.name, () => ({
      status: 200,
      before: async () => {
        const early = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, {});
        expect(early.status).toBe(200);
      },
    }));
    const asked = await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p200.name });
    const id = asked.body.data.id;
    await settled(callback, tenant, id, 'applied');
    const late = await eventually(async () => {
      const calls = (await landlord.admin.get(`/v1/tenants/${tenant.name}/history?kind=call`)).body.data;
      return calls.find((entry: any) => entry.action === 'upgrade');
    });
    expect(late.detail).toMatchObject({ stepId: id, verdict: 'late', status: 200 });
    expect((await changeOf(callback, tenant, id)).status).toBe('applied');
    expect(await eventTypes(tenant.id)).toEqual(['subscription.plan_change_requested', 'subscription.plan_changed']);
  });

  it('fails when the report misses its deadline: the subscription stays as it was, and the late report is refused', async () => {
    const tenant = await subscribed(callback, prices.callback.p100);
    clock.set(JAN_15);
    const id = (await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p200.name })).body.data.id;
    await settled(callback, tenant, id, 'awaiting_report');
    clock.advance((CALLBACK_TIMEOUT_SECONDS + 1) * 1000);
    await landlord.node.sweeps.get('report-deadlines')?.runNow();
    const failed = await settled(callback, tenant, id, 'failed');
    expect(failed.failureReason.reason).toContain(`within ${CALLBACK_TIMEOUT_SECONDS} s`);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data).toMatchObject({
      priceId: prices.callback.p100.id,
      amount: 10_000,
    });
    const invoices = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
    expect(invoices.map((invoice: any) => invoice.total)).toEqual([10_000]);
    const late = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, {});
    expect(late.status).toBe(409);
    expect(await eventTypes(tenant.id)).toEqual(['subscription.plan_change_requested', 'subscription.plan_change_failed']);
  });

  it('refuses a second change while one is in flight (409)', async () => {
    const tenant = await subscribed(callback, prices.callback.p100);
    clock.set(JAN_15);
    const first = await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p200.name });
    expect(first.status).toBe(201);
    const second = await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p200.name });
    expect(second.status).toBe(409);
    expect(second.body.metadata.errors[0]).toMatchObject({ code: 'plan_change.in_flight', parameter: 'tenant' });
    const preview = await (await clientOf(callback)).post(`${changes(tenant)}/preview`, { reset: true });
    expect(preview.status).toBe(409);
    await settled(callback, tenant, first.body.data.id, 'awaiting_report');
    const report = await (await clientOf(callback)).post(`${changes(tenant)}/${first.body.data.id}/report`, {
      outcome: 'failed',
      reason: 'no capacity',
    });
    expect(report.status).toBe(200);
    expect(report.body.data).toMatchObject({ status: 'failed', failureReason: { reason: 'no capacity' } });
    expect((await (await clientOf(callback)).get(changes(tenant))).body.data).toHaveLength(1);
  });
});

describe('a downgrade at the period end', () => {
  it('holds the renewal until the backend confirms it; the period then opens once, on the new price', async () => {
    const tenant = await subscribed(callback, prices.callback.p200);
    clock.set(JAN_15);
    const asked = await (await clientOf(callback)).post(changes(tenant), { price: prices.callback.p100.name });
    expect(asked.status).toBe(201);
    expect(asked.body.data).toMatchObject({
      kind: 'downgrade',
      timing: 'period_end',
      status: 'scheduled',
      effectiveAt: FEB_1.toISOString(),
    });
    clock.set(new Date(FEB_1.getTime() + 60_000));
    // Neither a write that brings the subscription up to now (auto-renewal toggled) nor the renewals sweep renews past the held boundary.
    expect((await landlord.admin.patch(`/v1/tenants/${tenant.name}/subscription`, { autoRenew: true })).status).toBe(200);
    await landlord.node.sweeps.get('renewals')?.runNow();
    await landlord.node.sweeps.get('renewals')?.runNow();
    expect(await periodsOf(tenant)).toHaveLength(1);
    await landlord.node.sweeps.get('plan-changes')?.runNow();
    const call = await backend.waitFor((request) => request.path === `/api/integration/${tenant.name}/downgrade`);
    expect(call.headers['idempotency-key']).toBe(asked.body.data.id);
    await settled(callback, tenant, asked.body.data.id, 'awaiting_report');
    expect((await landlord.admin.patch(`/v1/tenants/${tenant.name}/subscription`, { autoRenew: true })).status).toBe(200);
    await landlord.node.sweeps.get('renewals')?.runNow();
    await landlord.node.sweeps.get('renewals')?.runNow();
    expect(await periodsOf(tenant)).toHaveLength(1);

    const report = await (await clientOf(callback)).post(`${ROSAAS}/tenants/${tenant.name}/subscription/downgrade`, {});
    expect(report.status).toBe(200);
    expect(await periodsOf(tenant)).toEqual([
      [0, prices.callback.p200.id, 20_000, JAN_1.toISOString()],
      [1, prices.callback.p100.id, 10_000, FEB_1.toISOString()],
    ]);
    const invoices = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
    expect(invoices.map((invoice: any) => invoice.total).sort()).toEqual([10_000, 20_000]);
    expect((await changeOf(callback, tenant, asked.body.data.id)).proration).toBeNull();
  });

  it('that the backend refuses leaves the subscription as it was: the period opens on the old price', async () => {
    const tenant = await subscribed(response, prices.response.p200);
    answers.set(tenant.name, (request) =>
      request.path.endsWith('/downgrade') ? { status: 422, body: { error: 'not allowed' } } : { status: 200 },
    );
    clock.set(JAN_15);
    const asked = await (await clientOf(response)).post(changes(tenant), { price: prices.response.p100.name });
    expect(asked.body.data.status).toBe('scheduled');
    clock.set(new Date(FEB_1.getTime() + 60_000));
    await landlord.node.sweeps.get('plan-changes')?.runNow();
    const failed = await settled(response, tenant, asked.body.data.id, 'failed');
    expect(failed.failureReason.reason).toBe('the backend answered 422');
    expect(await periodsOf(tenant)).toEqual([
      [0, prices.response.p200.id, 20_000, JAN_1.toISOString()],
      [1, prices.response.p200.id, 20_000, FEB_1.toISOString()],
    ]);
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription`)).body.data.priceId).toBe(prices.response.p200.id);
    expect(await eventTypes(tenant.id)).toEqual(['subscription.plan_change_requested', 'subscription.plan_change_failed']);
  });
});

describe('a reset', () => {
  it('restarts the usage windows once the backend confirms it: the RoSaaS tenant read carries the last reset', async () => {
    const tenant = await subscribed(response, prices.response.p100);
    clock.set(JAN_15);
    const asked = await (await clientOf(response)).post(changes(tenant), { reset: true });
    expect(asked.status).toBe(201);
    expect(asked.body.data).toMatchObject({ kind: 'reset', timing: 'now', toPriceId: prices.response.p100.id });
    const call = await backend.waitFor((request) => request.path === `/api/integration/${tenant.name}/reset`);
    expect(call.body).toMatchObject({ tenantName: tenant.name, change: { type: 'reset' } });
    const applied = await settled(response, tenant, asked.body.data.id, 'applied');
    expect(applied.proration).toBeNull();
    const read = await (await clientOf(response)).get(`${ROSAAS}/tenants/${tenant.name}`);
    expect(read.body.data.subscription).toMatchObject({ planPriceId: prices.response.p100.id, lastResetDate: JAN_15.toISOString() });
  });
});
