import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanPrice, createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { clientToken, parametersOf } from '../catalogue/catalogue.test-support.ts';
import { manualClock } from '../platform/clock.ts';

const clock = manualClock(new Date('2024-01-31T10:00:00.000Z'));
let landlord: TestLandlord;
let product: { id: string; name: string };
let price: { plan: string; price: string; id: string };
let foreignClient: string;

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  product = await createProduct(landlord.admin);
  price = await createPlanPrice(landlord.admin, product.name);
  const other = await createProduct(landlord.admin);
  foreignClient = await clientToken(landlord, other.id);
});
afterAll(async () => {
  await landlord?.close();
});

const sub = (tenant: string) => `/v1/tenants/${tenant}/subscription`;

async function eventsOf(tenantId: string) {
  return landlord.node.services.db
    .selectFrom('events')
    .select(['type', 'tenant_seq', 'occurred_at', 'data'])
    .where('tenant_id', '=', tenantId)
    .orderBy('tenant_seq')
    .execute();
}

describe('POST /v1/tenants/{tenant}/subscription', () => {
  it('subscribes a tenant: first period from now on the calendar, a numbered open invoice, the plan mirrored, events in order', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const response = await landlord.admin.post(sub(tenant.name), { price: price.price });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      tenantId: tenant.id,
      priceId: price.id,
      priceName: price.price,
      status: 'active',
      amount: 1000,
      currency: 'EUR',
      timeZone: 'UTC',
      autoRenew: true,
      cancelAt: null,
      currentPeriod: { number: 0, start: '2024-01-31T10:00:00.000Z', end: '2024-02-29T10:00:00.000Z' },
      nextActionAt: '2024-02-29T10:00:00.000Z',
      actions: ['cancel', 'cancel_now', 'set_auto_renew'],
    });
    const invoices = await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`);
    expect(invoices.body.data).toHaveLength(1);
    expect(invoices.body.data[0]).toMatchObject({ status: 'open', total: 1000, due: 1000, currency: 'EUR' });
    expect(invoices.body.data[0].number).toBeGreaterThan(0);
    const invoice = await landlord.admin.get(`/v1/invoices/${invoices.body.data[0].id}`);
    expect(invoice.body.data.lines).toEqual([
      expect.objectContaining({
        kind: 'period',
        amount: 1000,
        periodStart: '2024-01-31T10:00:00.000Z',
        periodEnd: '2024-02-29T10:00:00.000Z',
      }),
    ]);
    const tenantRow = await landlord.node.services.db
      .selectFrom('tenants')
      .select('plan_price_id')
      .where('id', '=', tenant.id)
      .executeTakeFirst();
    expect(tenantRow?.plan_price_id).toBe(price.id);
    const events = await eventsOf(tenant.id);
    const commerce = events.filter((e) => !e.type.startsWith('tenant.'));
    // The period's invoice is created and finalized at once: both are told, in that order, with its number.
    expect(commerce.map((e) => e.type)).toEqual(['subscription.created', 'subscription.activated', 'invoice.created', 'invoice.finalized']);
    // One sequence per tenant, lifecycle and commerce events alike: 1, 2, 3… without gaps.
    expect(events.map((e) => Number(e.tenant_seq))).toEqual(events.map((_, index) => index + 1));
    // Both carry the invoice as the engine's invoiceView shows it, with the number and the (absent) billing profile.
    for (const event of commerce.slice(2)) {
      expect(event.data).toEqual({
        invoice: {
          id: invoices.body.data[0].id,
          number: invoices.body.data[0].number,
          status: 'open',
          subscriptionId: response.body.data.id,
          periodId: expect.any(String),
          total: 1000,
          currency: 'EUR',
          finalizedAt: '2024-01-31T10:00:00.000Z',
          billedTo: null,
        },
      });
    }
    const periods = await landlord.admin.get(`${sub(tenant.name)}/periods`);
    expect(periods.body.data).toEqual([expect.objectContaining({ number: 0, amount: 1000, trial: false })]);
  });

  it('starts a trial from the price’s trialDays, offers operators to extend or end it, and ends it into the first paid period', async () => {
    const trialPrice = await createPlanPrice(landlord.admin, product.name);
    await landlord.admin.patch(`/v1/products/${product.name}/plans/${trialPrice.plan}/prices/${trialPrice.price}`, { trialDays: 14 });
    const tenant = await createTenant(landlord.admin, product.name);
    const response = await landlord.admin.post(sub(tenant.name), { price: trialPrice.price });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      status: 'trialing',
      trialEndAt: '2024-02-14T10:00:00.000Z',
      currentPeriod: { number: 0, end: '2024-02-14T10:00:00.000Z' },
      nextActionAt: '2024-02-11T10:00:00.000Z',
    });
    expect(response.body.data.actions).toEqual(expect.arrayContaining(['extend_trial', 'end_trial']));
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data).toEqual([]);
    const extended = await landlord.admin.post(`${sub(tenant.name)}/trial/extend`, { endsAt: '2024-02-20T10:00:00.000Z' });
    expect(extended.body.data).toMatchObject({
      status: 'trialing',
      trialEndAt: '2024-02-20T10:00:00.000Z',
      nextActionAt: '2024-02-17T10:00:00.000Z',
    });
    const client = landlord.as(await clientToken(landlord, product.id));
    expect((await client.post(`${sub(tenant.name)}/trial/end`)).status).toBe(403);
    clock.advance(2 * 86_400_000);
    try {
      const ended = await landlord.admin.post(`${sub(tenant.name)}/trial/end`);
      expect(ended.status).toBe(200);
      expect(ended.body.data).toMatchObject({
        status: 'active',
        anchorAt: '2024-02-02T10:00:00.000Z',
        currentPeriod: { number: 1, start: '2024-02-02T10:00:00.000Z', end: '2024-03-02T10:00:00.000Z' },
      });
      expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data).toHaveLength(1);
      const periods = (await landlord.admin.get(`${sub(tenant.name)}/periods`)).body.data;
      expect(periods.map((p: { trial: boolean; end: string }) => [p.trial, p.end])).toEqual([
        [true, '2024-02-02T10:00:00.000Z'],
        [false, '2024-03-02T10:00:00.000Z'],
      ]);
    } finally {
      clock.advance(-2 * 86_400_000);
    }
  });

  it('refuses an unknown price, a bad field, a second live subscription, a client of another product (404), naming the field', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    const unknown = await landlord.admin.post(sub(tenant.name), { price: 'no-such-price' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'subscription.invalid_price', parameter: 'price' });
    const bad = await landlord.admin.post(sub(tenant.name), { price: price.price, trialDays: -1, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['trialDays']));
    const past = await landlord.admin.post(sub(tenant.name), { price: price.price, startAt: '2020-01-01T00:00:00Z' });
    expect(past.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'startAt' });
    const draft = await createPlanPrice(landlord.admin, product.name, { publish: false });
    expect((await landlord.admin.post(sub(tenant.name), { price: draft.price })).body.metadata.errors[0]).toMatchObject({
      code: 'price.not_published',
      parameter: 'price',
    });
    expect((await landlord.admin.get(sub(tenant.name))).status).toBe(404);
    expect((await landlord.admin.post(sub(tenant.name), { price: price.price })).status).toBe(201);
    const again = await landlord.admin.post(sub(tenant.name), { price: price.price });
    expect(again.status).toBe(409);
    expect(again.body.metadata.errors[0].code).toBe('subscription.exists');
    const foreign = landlord.as(foreignClient);
    expect((await foreign.get(sub(tenant.name))).status).toBe(404);
    expect((await foreign.post(sub(tenant.name), { price: price.price })).status).toBe(404);
    expect((await foreign.post(`${sub(tenant.name)}/cancel`, {})).status).toBe(404);
    expect((await landlord.as(undefined).get(sub(tenant.name))).status).toBe(401);
  });

  it('lets the product’s own client subscribe', async () => {
    const client = landlord.as(await clientToken(landlord, product.id));
    const tenant = await createTenant(client, product.name);
    const response = await client.post(sub(tenant.name), { price: price.id, autoRenew: false });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({ status: 'active', autoRenew: false });
    expect(response.body.data.actions).not.toContain('extend_trial');
  });
});

describe('cancellation and auto-renewal', () => {
  it('schedules a cancellation at period end, withdraws it, and cancels now (the tenant’s plan cleared)', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(tenant.name), { price: price.price });
    const scheduled = await landlord.admin.post(`${sub(tenant.name)}/cancel`, {});
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.data).toMatchObject({
      status: 'active',
      cancelAt: '2024-02-29T10:00:00.000Z',
      actions: ['withdraw_cancel', 'cancel_now', 'set_auto_renew'],
    });
    const withdrawn = await landlord.admin.delete(`${sub(tenant.name)}/cancel`);
    expect(withdrawn.body.data).toMatchObject({ status: 'active', cancelAt: null });
    expect((await landlord.admin.delete(`${sub(tenant.name)}/cancel`)).body.metadata.errors[0].code).toBe('subscription.no_cancellation');
    const off = await landlord.admin.patch(sub(tenant.name), { autoRenew: false });
    expect(off.body.data.autoRenew).toBe(false);
    const now = await landlord.admin.post(`${sub(tenant.name)}/cancel`, { when: 'now' });
    expect(now.body.data).toMatchObject({ status: 'canceled', endedAt: '2024-01-31T10:00:00.000Z', actions: [] });
    const tenantRow = await landlord.node.services.db
      .selectFrom('tenants')
      .select('plan_price_id')
      .where('id', '=', tenant.id)
      .executeTakeFirst();
    expect(tenantRow?.plan_price_id).toBeNull();
    expect((await landlord.admin.post(`${sub(tenant.name)}/cancel`, {})).body.metadata.errors[0].code).toBe('subscription.not_live');
    const types = (await eventsOf(tenant.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['subscription.cancel_scheduled', 'subscription.updated', 'subscription.canceled']));
    // A new subscription may follow a final one.
    expect((await landlord.admin.post(sub(tenant.name), { price: price.price })).status).toBe(201);
  });
});

describe('invoices and payments', () => {
  it('records partial payments idempotently on provider + reference, refuses overpaying, and marks the invoice paid', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(tenant.name), { price: price.price });
    const [invoice] = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
    const pay = (body: Record<string, unknown>) => landlord.admin.post(`/v1/invoices/${invoice.id}/payments`, body);
    const ref = `ref-${tenant.id}`;
    const first = await pay({ provider: 'manual', reference: ref, amount: 400 });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ replayed: false, invoice: { status: 'open', paid: 400, due: 600 } });
    const replay = await pay({ provider: 'manual', reference: ref, amount: 400 });
    expect(replay.status).toBe(200);
    expect(replay.body.data).toMatchObject({ replayed: true, payment: { id: first.body.data.payment.id } });
    expect((await pay({ provider: 'manual', reference: ref, amount: 300 })).body.metadata.errors[0]).toMatchObject({
      code: 'payment.reference_taken',
      parameter: 'reference',
    });
    const over = await pay({ provider: 'manual', reference: `${ref}-2`, amount: 601 });
    expect(over.status).toBe(422);
    expect(over.body.metadata.errors[0]).toMatchObject({ code: 'payment.exceeds_balance', parameter: 'amount' });
    expect((await pay({ provider: 'manual', reference: `${ref}-3`, amount: 1, currency: 'USD' })).body.metadata.errors[0].parameter).toBe(
      'currency',
    );
    expect((await pay({ provider: 'manual', reference: `${ref}-4`, amount: 0 })).status).toBe(400);
    const rest = await pay({ provider: 'manual', reference: `${ref}-5`, amount: 600 });
    expect(rest.body.data.invoice).toMatchObject({ status: 'paid', paid: 1000, due: 0 });
    const read = await landlord.admin.get(`/v1/invoices/${invoice.id}`);
    expect(read.body.data.payments.map((p: { amount: number }) => p.amount)).toEqual([400, 600]);
    expect((await landlord.admin.post(`/v1/invoices/${invoice.id}/void`)).body.metadata.errors[0].code).toBe('invoice.not_open');
    expect((await landlord.admin.post(`/v1/invoices/${invoice.id}/finalize`)).body.metadata.errors[0].code).toBe('invoice.not_draft');
    const foreign = landlord.as(foreignClient);
    expect((await foreign.get(`/v1/invoices/${invoice.id}`)).status).toBe(404);
    expect((await foreign.post(`/v1/invoices/${invoice.id}/payments`, { provider: 'manual', reference: 'x', amount: 1 })).status).toBe(404);
    expect((await landlord.admin.get('/v1/invoices/not-an-id')).status).toBe(404);
    const types = (await eventsOf(tenant.id)).map((e) => e.type);
    expect(types.at(-1)).toBe('invoice.paid');
  });

  it('voids an open invoice without payments', async () => {
    const tenant = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(tenant.name), { price: price.price });
    const [invoice] = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
    const voided = await landlord.admin.post(`/v1/invoices/${invoice.id}/void`);
    expect(voided.status).toBe(200);
    expect(voided.body.data).toMatchObject({ status: 'void', number: invoice.number });
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices?status=void`)).body.data).toHaveLength(1);
  });
});

describe('tenants and their subscriptions', () => {
  it('subscribes a tenant created on a price in the statement that creates it, and cancels it when the tenant is deleted', async () => {
    const tenant = await createTenant(landlord.admin, product.name, { plan: price.price });
    const read = await landlord.admin.get(sub(tenant.name));
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ status: 'active', priceId: price.id, currentPeriod: { number: 0 } });
    const types = (await eventsOf(tenant.id)).map((e) => e.type);
    expect(types.indexOf('subscription.created')).toBeGreaterThan(types.indexOf('tenant.created'));
    const client = landlord.as(await clientToken(landlord, product.id));
    const rosaas = await client.get(`/api/management/apps/v1/tenants/${tenant.name}`);
    expect(rosaas.body.data.subscription).toEqual({
      id: read.body.data.id,
      status: 'active',
      planPriceId: price.id,
      planPriceSystemName: price.price,
      planName: price.plan,
      periodStartDate: '2024-01-31T10:00:00.000Z',
      periodEndDate: '2024-02-29T10:00:00.000Z',
      trialEndDate: null,
      autoRenew: true,
      cancelDate: null,
      lastResetDate: null,
    });
    expect(types).toContain('invoice.finalized');
    const deleted = await landlord.admin.delete(`/v1/tenants/${tenant.name}`);
    expect(deleted.status).toBeLessThan(300);
    const after = await landlord.admin.get(sub(tenant.name));
    expect(after.body.data).toMatchObject({ status: 'canceled', endedAt: '2024-01-31T10:00:00.000Z' });
    const tenantRow = await landlord.node.services.db
      .selectFrom('tenants')
      .select('plan_price_id')
      .where('id', '=', tenant.id)
      .executeTakeFirst();
    expect(tenantRow?.plan_price_id).toBeNull();
  });

  it('writes neither tenant nor subscription when the tenant cannot be created', async () => {
    const first = await createTenant(landlord.admin, product.name);
    const again = await landlord.admin.post('/v1/tenants', {
      product: product.name,
      name: first.name,
      displayName: 'Again',
      plan: price.price,
    });
    expect(again.status).toBe(409);
    const count = await landlord.node.services.db
      .selectFrom('subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', first.id)
      .executeTakeFirst();
    expect(Number(count?.n)).toBe(0);
  });
});

describe('lists', () => {
  it('pages periods by number and invoices newest first, and refuses a foreign cursor', async () => {
    const daily = await createPlanPrice(landlord.admin, product.name);
    await landlord.admin.patch(`/v1/products/${product.name}/plans/${daily.plan}/prices/${daily.price}`, { cycle: 'day' });
    const tenant = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(tenant.name), { price: daily.price });
    clock.advance(3 * 86_400_000);
    try {
      // Reading through a change brings the subscription up to now first (3 more daily periods).
      await landlord.admin.patch(sub(tenant.name), { autoRenew: true });
      await landlord.admin.post(`${sub(tenant.name)}/cancel`, {});
      const first = await landlord.admin.get(`${sub(tenant.name)}/periods?limit=2`);
      expect(first.body.data.map((p: { number: number }) => p.number)).toEqual([0, 1]);
      const cursor = first.body.metadata.pagination.nextCursor;
      const second = await landlord.admin.get(`${sub(tenant.name)}/periods?limit=2&cursor=${cursor}`);
      expect(second.body.data.map((p: { number: number }) => p.number)).toEqual([2, 3]);
      expect(second.body.metadata.pagination.nextCursor).toBeNull();
      const invoices = await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices?limit=3`);
      const numbers = invoices.body.data.map((i: { number: number }) => i.number);
      expect([...numbers].sort((a: number, b: number) => b - a)).toEqual(numbers);
      const rest = await landlord.admin.get(
        `/v1/tenants/${tenant.name}/invoices?limit=3&cursor=${invoices.body.metadata.pagination.nextCursor}`,
      );
      expect(rest.body.data).toHaveLength(1);
      expect((await landlord.admin.get(`${sub(tenant.name)}/periods?cursor=bm90LWEtbnVtYmVy`)).body.metadata.errors[0].code).toBe(
        'request.invalid_cursor',
      );
    } finally {
      clock.advance(-3 * 86_400_000);
    }
  });
});
