import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { clientToken } from '../catalogue/catalogue.test-support.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { publishedPrice } from '../plan-changes/plan-changes.test-support.ts';
import { manualClock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { executeOneDue } from './recurring-bills.sweep.ts';

const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let product: { id: string; name: string };
let price: { id: string; name: string };
let client: string;

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  product = await createProduct(landlord.admin);
  price = await publishedPrice(landlord.admin, product.name, 1000);
  client = await clientToken(landlord, product.id);
});
afterAll(async () => {
  await landlord?.close();
});

async function tenant(subscribe: boolean) {
  clock.set(JAN_1);
  const created = await createTenant(landlord.admin, product.name);
  if (subscribe) expect((await landlord.admin.post(`/v1/tenants/${created.name}/subscription`, { price: price.name })).status).toBe(201);
  return created as { id: string; name: string };
}

const sweep = (name: string) => landlord.node.sweeps.get(name)?.runNow();

async function count(table: 'bills' | 'recurring_bills', tenantId: string) {
  const row = await landlord.node.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('one-off bills', () => {
  it("go on the tenant's next invoice at its subscription's next boundary, in its currency; an invoiced bill cannot be cancelled", async () => {
    const subscribed = await tenant(true);
    const created = await landlord
      .as(client)
      .post(`/v1/tenants/${subscribed.name}/bills`, { priceCents: 2000, description: 'Product purchase' });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      status: 'submitted',
      currency: 'EUR',
      units: 1,
      priceCents: 2000,
      periodStartedAt: null,
      invoiceAt: '2027-02-01T00:00:00.000Z',
      invoiceId: null,
    });
    const id = created.body.data.id;
    await sweep('bill-invoices');
    expect((await landlord.admin.get(`/v1/bills/${id}`)).body.data.status).toBe('submitted');
    clock.set(new Date('2027-02-01T00:00:01.000Z'));
    // A pass already under way may have read the clock before it moved: the next one sees it.
    const invoiced = await eventually(async () => {
      await sweep('bill-invoices');
      const bill = (await landlord.admin.get(`/v1/bills/${id}`)).body.data;
      return bill.status === 'invoiced' ? bill : undefined;
    });
    const invoice = (await landlord.admin.get(`/v1/invoices/${invoiced.invoiceId}`)).body.data;
    expect(invoice).toMatchObject({ status: 'open', total: 2000, currency: 'EUR' });
    expect(invoice.lines).toEqual([
      expect.objectContaining({ kind: 'bill', source: `bill:${id}`, amount: 2000, description: 'Product purchase' }),
    ]);
    const refused = await landlord.admin.delete(`/v1/bills/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0].code).toBe('bill.invoiced');
  });

  it('of a tenant without a subscription go on a daily invoice; units multiply, rounded half up; cancelling answers the cancelled bill', async () => {
    const bare = await tenant(false);
    const noCurrency = await landlord.admin.post(`/v1/tenants/${bare.name}/bills`, { priceCents: 2000, description: 'x' });
    expect(noCurrency.status).toBe(400);
    expect(noCurrency.body.metadata.errors[0].parameter).toBe('currency');
    const kept = await landlord.admin.post(`/v1/tenants/${bare.name}/bills`, {
      priceCents: 333,
      currency: 'USD',
      units: 1.5,
      description: 'Seats',
      periodStartedAt: '2026-12-01T00:00:00Z',
      periodEndedAt: '2027-01-01T00:00:00Z',
    });
    expect(kept.body.data).toMatchObject({ invoiceAt: '2027-01-02T00:00:00.000Z', units: 1.5, periodEndedAt: '2027-01-01T00:00:00.000Z' });
    const dropped = await landlord.admin.post(`/v1/tenants/${bare.name}/bills`, { priceCents: 100, currency: 'USD', description: 'Oops' });
    const cancelled = await landlord.admin.delete(`/v1/bills/${dropped.body.data.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe('cancelled');
    expect((await landlord.admin.delete(`/v1/bills/${dropped.body.data.id}`)).body.data.status).toBe('cancelled');
    clock.set(new Date('2027-01-02T00:00:00.000Z'));
    const bills = await eventually(async () => {
      await sweep('bill-invoices');
      const listed = (await landlord.admin.get(`/v1/tenants/${bare.name}/bills`)).body.data;
      return listed.some((bill: any) => bill.status === 'invoiced') ? listed : undefined;
    });
    expect(bills.map((bill: any) => [bill.description, bill.status])).toEqual([
      ['Oops', 'cancelled'],
      ['Seats', 'invoiced'],
    ]);
    const invoice = (await landlord.admin.get(`/v1/invoices/${bills[1].invoiceId}`)).body.data;
    expect(invoice).toMatchObject({ total: 500, currency: 'USD', subscriptionId: null });
  });

  it('refuses bad input naming the field, and writes nothing; another product’s credential gets 404', async () => {
    const subscribed = await tenant(true);
    const path = `/v1/tenants/${subscribed.name}/bills`;
    for (const [body, parameter] of [
      [{ priceCents: -1, description: 'x' }, 'priceCents'],
      [{ priceCents: 1, description: 'x', periodStartedAt: '2027-01-01T00:00:00Z' }, 'periodEndedAt'],
      [{ priceCents: 1, description: 'x', periodEndedAt: '2027-01-01T00:00:00Z' }, 'periodStartedAt'],
      [
        { priceCents: 1, description: 'x', periodStartedAt: '2027-01-02T00:00:00Z', periodEndedAt: '2027-01-01T00:00:00Z' },
        'periodEndedAt',
      ],
      [{ priceCents: 1, description: 'x', units: 0 }, 'units'],
    ] as const) {
      const refused = await landlord.admin.post(path, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.metadata.errors[0].parameter).toContain(parameter);
    }
    const other = await createProduct(landlord.admin);
    const foreign = landlord.as(await clientToken(landlord, other.id));
    expect((await foreign.post(path, { priceCents: 1, description: 'x' })).status).toBe(404);
    expect(await count('bills', subscribed.id)).toBe(0);
    const mine = await landlord.admin.post(path, { priceCents: 1, description: 'x' });
    expect((await foreign.get(`/v1/bills/${mine.body.data.id}`)).status).toBe(404);
    expect((await foreign.delete(`/v1/bills/${mine.body.data.id}`)).status).toBe(404);
    expect((await foreign.get(`/v1/tenants/${subscribed.name}/bills`)).status).toBe(404);
  });
});

describe('recurring bills', () => {
  it('execute from the start by calendar months, clamped, exactly cycles times, each one bill; initialCents is billed once', async () => {
    const bare = await tenant(false);
    const created = await landlord.as(client).post(`/v1/tenants/${bare.name}/recurring-bills`, {
      priceCents: 2990,
      currency: 'AUD',
      description: 'User license',
      period: 'Month',
      startDate: '2027-01-31T09:00:00Z',
      cycles: 3,
      initialCents: 500,
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      period: 'month',
      frequency: 1,
      status: 'submitted',
      nextExecutionAt: '2027-01-31T09:00:00.000Z',
      lastExecutionAt: null,
      remainingCycles: 3,
    });
    const id = created.body.data.id;
    clock.set(new Date('2027-04-30T10:00:00.000Z'));
    const after = await eventually(async () => {
      await sweep('recurring-bills');
      const read = (await landlord.admin.get(`/v1/recurring-bills/${id}`)).body.data;
      return read.status === 'expired' ? read : undefined;
    });
    expect(after).toMatchObject({
      status: 'expired',
      executions: 3,
      remainingCycles: 0,
      nextExecutionAt: null,
      lastExecutionAt: '2027-03-31T09:00:00.000Z',
    });
    const bills = (await landlord.admin.get(`/v1/tenants/${bare.name}/bills`)).body.data.reverse();
    expect(bills.map((bill: any) => [bill.execution, bill.priceCents, bill.periodStartedAt])).toEqual([
      [null, 500, null],
      [0, 2990, '2027-01-31T09:00:00.000Z'],
      [1, 2990, '2027-02-28T09:00:00.000Z'],
      [2, 2990, '2027-03-31T09:00:00.000Z'],
    ]);
    await sweep('recurring-bills');
    expect(await count('bills', bare.id)).toBe(4);
    const again = landlord.node.services.db.insertInto('bills').values({
      id: newId(),
      product_id: product.id,
      tenant_id: bare.id,
      recurring_bill_id: id,
      execution: 1,
      price_cents: 2990,
      currency: 'AUD',
      description: 'twice',
      status: 'submitted',
      invoice_at: new Date(),
      created_at: new Date(),
      updated_at: new Date(),
    });
    await expect(again.execute()).rejects.toSatisfy((error) => isUniqueViolation(error));
    const cancel = await landlord.admin.delete(`/v1/recurring-bills/${id}`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.metadata.errors[0].code).toBe('recurring_bill.expired');
  });

  it('refuses a period it does not know, period × frequency over a year, semimonth more than once; cancelling stops it', async () => {
    const subscribed = await tenant(true);
    const path = `/v1/tenants/${subscribed.name}/recurring-bills`;
    const base = { priceCents: 100, description: 'x' };
    const unknown = await landlord.admin.post(path, { ...base, period: 'Fortnight' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0].parameter).toBe('period');
    for (const [period, frequency] of [
      ['Month', 13],
      ['day', 366],
      ['SEMIMONTH', 2],
      ['Year', 2],
    ] as const) {
      const refused = await landlord.admin.post(path, { ...base, period, frequency });
      expect(refused.status, `${period} × ${frequency}`).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(refused.body.metadata.errors[0].parameter).toBe('frequency');
    }
    const negative = await landlord.admin.post(path, { ...base, period: 'week', initialCents: -5 });
    expect(negative.status).toBe(400);
    expect(await count('recurring_bills', subscribed.id)).toBe(0);

    const weekly = await landlord.admin.post(path, { ...base, period: 'Week', frequency: 2 });
    expect(weekly.body.data).toMatchObject({ currency: 'EUR', period: 'week', status: 'submitted', nextExecutionAt: JAN_1.toISOString() });
    const executed = await eventually(async () => {
      await sweep('recurring-bills');
      const read = (await landlord.admin.get(`/v1/recurring-bills/${weekly.body.data.id}`)).body.data;
      return read.executions > 0 ? read : undefined;
    });
    expect(executed).toMatchObject({
      status: 'active',
      executions: 1,
      remainingCycles: null,
      nextExecutionAt: '2027-01-15T00:00:00.000Z',
    });
    const foreign = landlord.as(await clientToken(landlord, (await createProduct(landlord.admin)).id));
    expect((await foreign.post(path, { ...base, period: 'week' })).status).toBe(404);
    expect((await foreign.get(path)).status).toBe(404);
    expect((await foreign.get(`/v1/recurring-bills/${weekly.body.data.id}`)).status).toBe(404);
    expect((await foreign.delete(`/v1/recurring-bills/${weekly.body.data.id}`)).status).toBe(404);
    expect((await landlord.as(undefined).get(`/v1/recurring-bills/${weekly.body.data.id}`)).status).toBe(401);
    const cancelled = await landlord.admin.delete(`/v1/recurring-bills/${weekly.body.data.id}`);
    expect(cancelled.body.data).toMatchObject({ status: 'cancelled', nextExecutionAt: null });
    clock.set(new Date('2027-03-01T00:00:00.000Z'));
    await sweep('recurring-bills');
    expect(await count('bills', subscribed.id)).toBe(1);
  });

  it('makes each execution once when several workers sweep at the same time', async () => {
    const bare = await tenant(false);
    const ids: string[] = [];
    for (let index = 0; index < 12; index++) {
      const created = await landlord.admin.post(`/v1/tenants/${bare.name}/recurring-bills`, {
        priceCents: 100,
        currency: 'EUR',
        description: `daily ${index}`,
        period: 'day',
        startDate: '2027-01-01T00:00:00Z',
        cycles: 5,
      });
      ids.push(created.body.data.id);
    }
    clock.set(new Date('2027-01-10T00:00:00.000Z'));
    const deps = { db: landlord.node.services.db, clock };
    const worker = async () => {
      while (await executeOneDue(deps)) {
        // until nothing is due
      }
    };
    // A worker that meets a duplicate execution fails (unique key), and so does Promise.all.
    await Promise.all([worker(), worker(), worker(), worker()]);
    // The node's own sweep may hold a row the workers skipped: it finishes it on its next pass.
    const rows = await eventually(async () => {
      await worker();
      const found = await landlord.node.services.db
        .selectFrom('bills')
        .select(['recurring_bill_id', 'execution'])
        .where('tenant_id', '=', bare.id)
        .execute();
      return found.length === 12 * 5 ? found : undefined;
    });
    for (const id of ids) {
      expect(
        rows
          .filter((row) => row.recurring_bill_id === id)
          .map((row) => row.execution)
          .sort(),
      ).toEqual([0, 1, 2, 3, 4]);
    }
  });
});

describe('one-off bill creation in one statement', () => {
  it('writes the bill, its audit record and its bill.created event (the tenant’s next number) together, carrying the bill as read', async () => {
    const { db } = landlord.node.services;
    const created = await tenant(true);
    const before = await db.selectFrom('tenants').select('event_seq').where('id', '=', created.id).executeTakeFirstOrThrow();
    const response = await landlord.admin.post(`/v1/tenants/${created.name}/bills`, { priceCents: 250, description: 'Setup', units: 1.5 });
    expect(response.status).toBe(201);
    const bill = response.body.data;
    expect((await landlord.admin.get(`/v1/bills/${bill.id}`)).body.data).toEqual(bill);
    const audit = await db.selectFrom('audit_log').selectAll().where('object_id', '=', bill.id).execute();
    expect(audit.map((row) => [row.action, row.after])).toEqual([['bill.created', bill]]);
    const events = await db
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', created.id)
      .where('type', '=', 'bill.created')
      .execute();
    // Numbered in the tenant's sequence after what came before (its lifecycle may add events meanwhile).
    expect(events.map((row) => row.data)).toEqual([{ bill }]);
    expect(Number(events[0]?.tenant_seq)).toBeGreaterThan(Number(before.event_seq));
  });

  it('writes nothing for a tenant deleted between the read and the write (re-checked under the tenant’s lock)', async () => {
    const { db } = landlord.node.services;
    const created = await tenant(false);
    const { insertBillLogged } = await import('./bills.repo.ts');
    // The tenant's creation step settles first: its call, running in the background, would otherwise move the
    // status this test sets by hand.
    await eventually(async () => {
      const { status } = (await landlord.admin.get(`/v1/tenants/${created.id}`)).body.data;
      return /^(sending|waiting)_/.test(status) ? undefined : status;
    });
    await db.updateTable('tenants').set({ status: 'deleted' }).where('id', '=', created.id).execute();
    const id = newId();
    const values = {
      id,
      product_id: product.id,
      tenant_id: created.id,
      price_cents: 100,
      currency: 'EUR',
      description: 'Too late',
      units: '1',
      status: 'submitted',
      invoice_at: JAN_1,
      created_at: JAN_1,
      updated_at: JAN_1,
    };
    const actor = { type: 'admin_key' as const, id: 'test', requestId: null };
    const written = await insertBillLogged(db, values, {
      actor,
      audit: { action: 'bill.created', objectType: 'bill', objectId: id, productId: product.id, tenantId: created.id, after: {} },
      event: { type: 'bill.created', productId: product.id, tenantId: created.id, data: {} },
    });
    expect(written).toBeUndefined();
    expect(await count('bills', created.id)).toBe(0);
    expect((await db.selectFrom('audit_log').select('id').where('object_id', '=', id).execute()).length).toBe(0);
    // No event either (the tenant's own sequence may move meanwhile: its creation call runs in the background).
    const events = await db
      .selectFrom('events')
      .select('id')
      .where('tenant_id', '=', created.id)
      .where('type', '=', 'bill.created')
      .execute();
    expect(events).toEqual([]);
  });
});
