import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { executeRecurringBill } from './recurring-bills.sweep.ts';

// Native bills and recurring bills: routes (happy path, errors, another product's credential) and
// the recurring executions, each exactly once, as the injected clock moves (reads after a move use the
// admin key: the client's token expires by the same clock).

const clock = manualClock(new Date('2026-01-31T10:00:00Z'));
let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let otherProductKey: string;
let tenant: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  const other = await peopleProduct(landlord, backend.url);
  otherProductKey = await productAdminKey(landlord, other.name);
  tenant = await liveTenant(landlord, product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const sweep = () => (landlord.node.sweeps.get('recurring-bills') as { runNow(): Promise<number> }).runNow();
const billsOf = async (recurring: string) =>
  (await landlord.admin.get(`/v1/tenants/${tenant.name}/bills?limit=500`)).body.data.filter(
    (bill: { recurringBill: string | null }) => bill.recurringBill === recurring,
  );

describe('bills', () => {
  it('creates, reads, lists and cancels a bill; cancelling twice answers the cancelled bill', async () => {
    const created = await product.client.post(`/v1/tenants/${tenant.name}/bills`, {
      priceCents: 2000,
      currency: 'EUR',
      description: 'Product purchase',
      units: 3,
      periodStartedAt: '2026-01-01T00:00:00Z',
      periodEndedAt: '2026-02-01T00:00:00Z',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data).toMatchObject({ priceCents: 2000, currency: 'EUR', units: 3, status: 'submitted', recurringBill: null });
    const { id, uid } = created.body.data;
    expect((await product.client.get(`/v1/tenants/${tenant.name}/bills/${uid}`)).body.data.id).toBe(id);
    expect((await product.client.get(`/v1/tenants/${tenant.name}/bills`)).body.data.map((bill: { id: string }) => bill.id)).toContain(id);
    for (let time = 0; time < 2; time++) {
      const cancelled = await product.client.post(`/v1/tenants/${tenant.name}/bills/${id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.data.status).toBe('cancelled');
    }
  });

  it('refuses bad input naming the field', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ priceCents: -1, currency: 'EUR', description: 'x' }, 'priceCents'],
      [{ priceCents: 1, description: 'x' }, 'currency'],
      [{ priceCents: 1, currency: 'EUR', description: 'x', periodEndedAt: '2026-01-01T00:00:00Z' }, 'periodStartedAt'],
    ];
    for (const [body, field] of bad) {
      const response = await product.client.post(`/v1/tenants/${tenant.name}/bills`, body);
      expect(response.status, response.text).toBe(400);
      expect(response.body.metadata.errors[0].parameter).toContain(field);
    }
    const recurring = await product.client.post(`/v1/tenants/${tenant.name}/recurring-bills`, {
      priceCents: 1,
      currency: 'EUR',
      description: 'x',
      period: 'Week',
      frequency: 53,
    });
    expect(recurring.status).toBe(400);
    expect(recurring.body.metadata.errors[0].parameter).toBe('frequency');
  });

  it('another product’s credential gets 404 for the tenant and its bills', async () => {
    const created = await product.client.post(`/v1/tenants/${tenant.name}/bills`, { priceCents: 5, currency: 'EUR', description: 'x' });
    const foreign = landlord.as(otherProductKey);
    expect((await foreign.get(`/v1/tenants/${tenant.name}/bills`)).status).toBe(404);
    expect((await foreign.get(`/v1/tenants/${tenant.name}/bills/${created.body.data.id}`)).status).toBe(404);
    expect((await foreign.post(`/v1/tenants/${tenant.name}/bills/${created.body.data.id}/cancel`)).status).toBe(404);
    expect((await foreign.post(`/v1/tenants/${tenant.name}/bills`, { priceCents: 5, currency: 'EUR', description: 'x' })).status).toBe(404);
  });
});

describe('recurring bills', () => {
  it('runs execution k at start + k months (clamped), exactly once each, and expires after its cycles', async () => {
    const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/recurring-bills`, {
      priceCents: 2990,
      currency: 'EUR',
      description: 'User license',
      period: 'Month',
      cycles: 3,
      startDate: clock.now().toISOString(),
      initialCents: 500,
    });
    expect(created.status, created.text).toBe(201);
    const { uid, id } = created.body.data;
    expect(created.body.data).toMatchObject({ status: 'submitted', remainingCycles: 3, nextExecutionAt: '2026-01-31T10:00:00.000Z' });
    // The initial charge is a bill of its own, made at creation.
    expect((await billsOf(uid)).map((bill: { execution: number | null }) => bill.execution)).toEqual([null]);

    await sweep();
    // Two nodes sweeping at once, and a direct re-run, still make one bill per execution.
    await Promise.all([sweep(), executeRecurringBill(landlord.node.services.db, clock, id)]);
    let read = (await landlord.admin.get(`/v1/tenants/${tenant.name}/recurring-bills/${uid}`)).body.data;
    expect(read).toMatchObject({
      status: 'active',
      remainingCycles: 2,
      lastExecutionAt: '2026-01-31T10:00:00.000Z',
      nextExecutionAt: '2026-02-28T10:00:00.000Z',
    });

    clock.set(new Date('2026-04-15T00:00:00Z'));
    await Promise.all([sweep(), sweep()]);
    read = (await landlord.admin.get(`/v1/tenants/${tenant.name}/recurring-bills/${uid}`)).body.data;
    expect(read).toMatchObject({
      status: 'expired',
      remainingCycles: 0,
      lastExecutionAt: '2026-03-31T10:00:00.000Z',
      nextExecutionAt: null,
    });
    const bills = await billsOf(uid);
    expect(bills.map((bill: { execution: number | null }) => bill.execution)).toEqual([null, 0, 1, 2]);
    expect(bills.slice(1).map((bill: { periodStartedAt: string }) => bill.periodStartedAt)).toEqual([
      '2026-01-31T10:00:00.000Z',
      '2026-02-28T10:00:00.000Z',
      '2026-03-31T10:00:00.000Z',
    ]);
    clock.advance(400 * 86_400_000);
    await sweep();
    expect(await billsOf(uid)).toHaveLength(4);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/recurring-bills/${uid}/cancel`)).status).toBe(409);
  });

  it('a cancelled recurring bill runs no further execution', async () => {
    const created = await landlord.admin.post(`/v1/tenants/${tenant.name}/recurring-bills`, {
      priceCents: 100,
      currency: 'EUR',
      description: 'Weekly',
      period: 'week',
      startDate: new Date(clock.now().getTime() + 86_400_000).toISOString(),
    });
    const uid = created.body.data.uid;
    const cancelled = await landlord.admin.post(`/v1/tenants/${tenant.name}/recurring-bills/${uid}/cancel`);
    expect(cancelled.body.data.status).toBe('cancelled');
    clock.advance(30 * 86_400_000);
    await sweep();
    expect(await billsOf(uid)).toEqual([]);
  });
});
