import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendSimulator,
  type Behaviour,
  type RecordedRequest,
  startBackendSimulator,
} from '../../test/helpers/backend-simulator.ts';
import { createTenant } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { ROSAAS, tenantOf, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { publishedPrice } from '../plan-changes/plan-changes.test-support.ts';
import { manualClock } from '../platform/clock.ts';

// A sandbox clock's advance answers once the work due by the new time is done — including the backend's
// confirmation of the plan changes due by then — or, when the backend takes longer than the caller waits, answers
// 202 `advancing` naming them, and the clock reads `ready` once they are confirmed.

const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const JAN_15 = new Date('2027-01-15T00:00:00.000Z');
const FEB_1 = new Date('2027-02-01T00:00:00.000Z');
const MAR_1 = new Date('2027-03-01T00:00:00.000Z');
const MAR_15 = '2027-03-15T00:00:00.000Z';

const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let backend: BackendSimulator;
// How the backend answers each tenant's calls (default: 200 at once).
const answers = new Map<string, (request: RecordedRequest) => Behaviour>();

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  backend.behave((request) => answers.get(tenantOf(request.path))?.(request) ?? { status: 200, body: {} });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function reportAs(wired: WiredProduct, tenant: string, kind: string) {
  const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', {
    clientId: wired.clientId,
    clientSecret: wired.clientSecret,
  });
  return apiClient(landlord.url, auth.body.data.token.accessToken).post(`${ROSAAS}/tenants/${tenant}/subscription/${kind}`, {});
}

/** A sandbox product in `mode` with a tenant on €200 a month since Jan 1 that asked on Jan 15 to go down to €100 at the period end. */
async function downgradeScheduled(provisioning: Record<string, unknown>) {
  clock.set(JAN_1);
  const wired = await wireProduct(landlord, backend, provisioning);
  expect((await landlord.admin.patch(`/v1/products/${wired.product.name}/billing`, { sandbox: true })).status).toBe(200);
  const p100 = await publishedPrice(landlord.admin, wired.product.name, 10_000);
  const p200 = await publishedPrice(landlord.admin, wired.product.name, 20_000);
  const tenant = await createTenant(landlord.admin, wired.product.name);
  expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: p200.name })).status).toBe(201);
  clock.set(JAN_15);
  const asked = await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription/changes`, { price: p100.name });
  expect(asked.body.data).toMatchObject({ kind: 'downgrade', timing: 'period_end', status: 'scheduled', effectiveAt: FEB_1.toISOString() });
  return { wired, tenant, p100, p200, changeId: asked.body.data.id as string };
}

async function periodsOf(tenant: string) {
  const periods = await landlord.admin.get(`/v1/tenants/${tenant}/subscription/periods`);
  return periods.body.data.map((p: { number: number; priceId: string; start: string }) => [p.number, p.priceId, p.start]);
}

const advance = (product: string, body: Record<string, unknown>) => landlord.admin.post(`/v1/products/${product}/clock/advance`, body);

describe('a sandbox clock advance past a period-end plan change', () => {
  it('in response mode waits for the backend’s slow 2xx: 200 `ready`, every period since on the price provisioned', async () => {
    const { wired, tenant, p100, p200, changeId } = await downgradeScheduled({ mode: 'response' });
    answers.set(tenant.name, () => ({ status: 200, delayMs: 700 }));
    const advanced = await advance(wired.product.name, { to: MAR_15 });
    expect(advanced.status).toBe(200);
    expect(advanced.body.data).toMatchObject({ productId: wired.product.id, now: MAR_15, status: 'ready', waitingFor: [] });
    expect(backend.requests.filter((request) => request.path === `/api/integration/${tenant.name}/downgrade`)).toHaveLength(1);
    expect(await periodsOf(tenant.name)).toEqual([
      [0, p200.id, JAN_1.toISOString()],
      [1, p100.id, FEB_1.toISOString()],
      [2, p100.id, MAR_1.toISOString()],
    ]);
    const change = await landlord.admin.get(`/v1/tenants/${tenant.name}/subscription/changes/${changeId}`);
    expect(change.body.data.status).toBe('applied');
  });

  it('in callback mode waits for the report that follows the 2xx: 200 `ready`', async () => {
    const { wired, tenant, p100, p200 } = await downgradeScheduled({ mode: 'callback', callbackTimeoutSeconds: 600 });
    answers.set(tenant.name, () => ({
      status: 200,
      after: async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect((await reportAs(wired, tenant.name, 'downgrade')).status).toBe(200);
      },
    }));
    const advanced = await advance(wired.product.name, { to: MAR_15 });
    expect(advanced.status).toBe(200);
    expect(advanced.body.data).toMatchObject({ status: 'ready', waitingFor: [] });
    expect(await periodsOf(tenant.name)).toEqual([
      [0, p200.id, JAN_1.toISOString()],
      [1, p100.id, FEB_1.toISOString()],
      [2, p100.id, MAR_1.toISOString()],
    ]);
  });

  it('answers 202 `advancing` naming the change when the report does not come within `waitSeconds`; the clock reads `ready` once it does', async () => {
    const { wired, tenant, p100, p200, changeId } = await downgradeScheduled({ mode: 'callback', callbackTimeoutSeconds: 600 });
    const tooLong = await advance(wired.product.name, { to: MAR_15, waitSeconds: 61 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.metadata.errors[0].parameter).toContain('waitSeconds');
    expect((await landlord.admin.get(`/v1/products/${wired.product.name}/clock`)).body.data).toMatchObject({ status: 'ready' });

    const started = Date.now();
    const advanced = await advance(wired.product.name, { to: MAR_15, waitSeconds: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(advanced.status).toBe(202);
    expect(advanced.body.metadata.success).toBe(true);
    expect(advanced.body.data).toMatchObject({
      now: MAR_15,
      status: 'advancing',
      waitingFor: [
        {
          id: changeId,
          tenantId: tenant.id,
          tenant: tenant.name,
          kind: 'downgrade',
          timing: 'period_end',
          status: 'awaiting_report',
          effectiveAt: FEB_1.toISOString(),
          reportDueAt: new Date(JAN_15.getTime() + 600_000).toISOString(),
        },
      ],
    });
    // The boundary stays held: nothing is billed on a price the backend has not confirmed.
    expect(await periodsOf(tenant.name)).toEqual([[0, p200.id, JAN_1.toISOString()]]);
    const polled = await landlord.admin.get(`/v1/products/${wired.product.name}/clock`);
    expect(polled.status).toBe(200);
    expect(polled.body.data).toMatchObject({ status: 'advancing', waitingFor: [{ id: changeId }] });

    expect((await reportAs(wired, tenant.name, 'downgrade')).status).toBe(200);
    const ready = await landlord.admin.get(`/v1/products/${wired.product.name}/clock`);
    expect(ready.body.data).toMatchObject({ productId: wired.product.id, now: MAR_15, status: 'ready', waitingFor: [] });
    // The confirmation opened the held periods at once, on the new price.
    expect(await periodsOf(tenant.name)).toEqual([
      [0, p200.id, JAN_1.toISOString()],
      [1, p100.id, FEB_1.toISOString()],
      [2, p100.id, MAR_1.toISOString()],
    ]);
    // Another product's client cannot read the clock.
    const other = await wireProduct(landlord, backend);
    expect((await other.backend.get(`/v1/products/${wired.product.name}/clock`)).status).toBe(404);
  });
});
