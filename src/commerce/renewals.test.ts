import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanPrice, createProduct, createTenant } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { clientToken } from '../catalogue/catalogue.test-support.ts';
import { manualClock } from '../platform/clock.ts';

const START = new Date('2024-01-31T10:00:00.000Z');
const clock = manualClock(START);
let landlord: TestLandlord;

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
});
afterAll(async () => {
  await landlord?.close();
});

const sub = (tenant: string) => `/v1/tenants/${tenant}/subscription`;

/** Sweeps until nothing is due: twice, so a pass that began before the clock moved cannot hide work. */
async function sweep() {
  const renewals = landlord.node.sweeps.get('renewals');
  if (!renewals) throw new Error('no renewals sweep');
  await renewals.runNow();
  await renewals.runNow();
}

async function periodsOf(subscriptionId: string) {
  return landlord.node.services.db
    .selectFrom('subscription_periods')
    .leftJoin('invoices', 'invoices.period_id', 'subscription_periods.id')
    .select(['subscription_periods.number', 'subscription_periods.start_at', 'subscription_periods.end_at', 'subscription_periods.trial'])
    .select(['invoices.number as invoice_number', 'invoices.finalized_at', 'invoices.total_minor'])
    .where('subscription_periods.subscription_id', '=', subscriptionId)
    .orderBy('subscription_periods.number')
    .execute();
}

async function typesOf(tenantId: string) {
  const rows = await landlord.node.services.db
    .selectFrom('events')
    .select(['type', 'occurred_at'])
    .where('tenant_id', '=', tenantId)
    .where('type', 'like', 'subscription.%')
    .orderBy('tenant_seq')
    .execute();
  return rows.map((row) => row.type);
}

async function sandboxProduct() {
  const product = await createProduct(landlord.admin);
  const billing = await landlord.admin.patch(`/v1/products/${product.name}/billing`, { sandbox: true });
  expect(billing.body.data).toMatchObject({ sandbox: true, timeZone: 'UTC', clock: clock.now().toISOString() });
  return product;
}

describe('sandbox clocks', () => {
  it('catches up: a clock moved three months opens three periods and three invoices per subscription, in order, each dated at its boundary', async () => {
    const product = await sandboxProduct();
    const price = await createPlanPrice(landlord.admin, product.name);
    const subscriptions: { id: string; tenantId: string }[] = [];
    for (let index = 0; index < 3; index += 1) {
      const tenant = await createTenant(landlord.admin, product.name);
      subscriptions.push((await landlord.admin.post(sub(tenant.name), { price: price.price })).body.data);
    }
    const advanced = await landlord.admin.post(`/v1/products/${product.name}/clock/advance`, { to: '2024-04-30T10:00:00.000Z' });
    expect(advanced.status).toBe(200);
    expect(advanced.body.data).toMatchObject({ productId: product.id, now: '2024-04-30T10:00:00.000Z' });
    const invoiceNumbers: number[] = [];
    for (const subscription of subscriptions) {
      const periods = await periodsOf(subscription.id);
      expect(periods.map((p) => [p.number, p.start_at.toISOString(), p.end_at?.toISOString()])).toEqual([
        [0, '2024-01-31T10:00:00.000Z', '2024-02-29T10:00:00.000Z'],
        [1, '2024-02-29T10:00:00.000Z', '2024-03-31T10:00:00.000Z'],
        [2, '2024-03-31T10:00:00.000Z', '2024-04-30T10:00:00.000Z'],
        [3, '2024-04-30T10:00:00.000Z', '2024-05-31T10:00:00.000Z'], // back to the 31st: from the anchor, not the last end
      ]);
      // Each invoice is finalized at its period's start and numbered in period order.
      expect(periods.map((p) => p.finalized_at?.toISOString())).toEqual(periods.map((p) => p.start_at.toISOString()));
      const numbers = periods.map((p) => Number(p.invoice_number));
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
      invoiceNumbers.push(...numbers);
      expect(await typesOf(subscription.tenantId)).toEqual([
        'subscription.created',
        'subscription.activated',
        'subscription.renewed',
        'subscription.renewed',
        'subscription.renewed',
      ]);
      const read = await landlord.admin.get(sub(subscription.tenantId));
      expect(read.body.data.currentPeriod).toMatchObject({ number: 3, start: '2024-04-30T10:00:00.000Z' });
    }
    // The product's invoice numbers have no gap and no double.
    expect([...invoiceNumbers].sort((a, b) => a - b)).toEqual(invoiceNumbers.map((_, index) => index + 1));
    // Nothing more is due; advancing to the same instant again changes nothing.
    const again = await landlord.admin.post(`/v1/products/${product.name}/clock/advance`, { to: '2024-04-30T10:00:00.000Z' });
    expect(again.body.data.renewed).toBe(0);
    expect(await periodsOf(subscriptions[0]?.id ?? '')).toHaveLength(4);
  });

  it('refuses moving backwards (422 naming `to`), a product that is not a sandbox (409), clients (403) and other products’ operators (404)', async () => {
    const product = await sandboxProduct();
    const backwards = await landlord.admin.post(`/v1/products/${product.name}/clock/advance`, { to: '2020-01-01T00:00:00Z' });
    expect(backwards.status).toBe(422);
    expect(backwards.body.metadata.errors[0]).toMatchObject({ code: 'clock.backwards', parameter: 'to' });
    const plain = await createProduct(landlord.admin);
    const notSandbox = await landlord.admin.post(`/v1/products/${plain.name}/clock/advance`, { to: '2030-01-01T00:00:00Z' });
    expect(notSandbox.body.metadata.errors[0]).toMatchObject({ code: 'clock.not_sandbox' });
    const client = landlord.as(await clientToken(landlord, product.id));
    expect((await client.post(`/v1/products/${product.name}/clock/advance`, { to: '2030-01-01T00:00:00Z' })).status).toBe(403);
    const foreign = landlord.as(await clientToken(landlord, plain.id));
    expect((await foreign.get(`/v1/products/${product.name}/billing`)).status).toBe(404);
    const zone = await landlord.admin.patch(`/v1/products/${product.name}/billing`, { timeZone: 'Mars/Olympus' });
    expect(zone.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'timeZone' });
    await landlord.admin.post(`/v1/products/${product.name}/clock/advance`, { to: '2030-01-01T00:00:00Z' });
    const leave = await landlord.admin.patch(`/v1/products/${product.name}/billing`, { sandbox: false });
    expect(leave.body.metadata.errors[0]).toMatchObject({ code: 'clock.backwards', parameter: 'sandbox' });
  });
});

describe('the renewals sweep on real time', () => {
  it('sends the trial notice once, ends the trial into a paid period with the anchor moved, expires without auto-renewal, cancels at period end', async () => {
    const product = await createProduct(landlord.admin);
    await landlord.admin.patch(`/v1/products/${product.name}/billing`, { timeZone: 'Europe/Berlin' });
    const price = await createPlanPrice(landlord.admin, product.name);
    const trialTenant = await createTenant(landlord.admin, product.name);
    const trial = (await landlord.admin.post(sub(trialTenant.name), { price: price.price, trialDays: 7 })).body.data;
    expect(trial).toMatchObject({ status: 'trialing', trialEndAt: '2024-02-07T10:00:00.000Z', timeZone: 'Europe/Berlin' });
    const expiring = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(expiring.name), { price: price.price, autoRenew: false });
    const canceling = await createTenant(landlord.admin, product.name);
    await landlord.admin.post(sub(canceling.name), { price: price.price });
    await landlord.admin.post(`${sub(canceling.name)}/cancel`, {});

    clock.set(new Date('2024-02-04T10:00:00.000Z'));
    await sweep();
    await sweep();
    expect(await typesOf(trialTenant.id)).toEqual(['subscription.created', 'subscription.activated', 'subscription.trial_will_end']);

    clock.set(new Date('2024-02-29T10:00:00.000Z'));
    await sweep();
    const renewed = (await landlord.admin.get(sub(trialTenant.name))).body.data;
    expect(renewed).toMatchObject({
      status: 'active',
      anchorAt: '2024-02-07T10:00:00.000Z',
      currentPeriod: { number: 1, start: '2024-02-07T10:00:00.000Z', end: '2024-03-07T10:00:00.000Z' },
    });
    expect(await typesOf(trialTenant.id)).toEqual([
      'subscription.created',
      'subscription.activated',
      'subscription.trial_will_end',
      'subscription.trial_ended',
      'subscription.renewed',
    ]);
    expect((await landlord.admin.get(sub(expiring.name))).body.data).toMatchObject({
      status: 'expired',
      endedAt: '2024-02-29T10:00:00.000Z',
    });
    expect((await landlord.admin.get(sub(canceling.name))).body.data).toMatchObject({
      status: 'canceled',
      endedAt: '2024-02-29T10:00:00.000Z',
    });
    const plans = await landlord.node.services.db
      .selectFrom('tenants')
      .select(['id', 'plan_price_id'])
      .where('id', 'in', [expiring.id, canceling.id, trialTenant.id])
      .execute();
    expect(Object.fromEntries(plans.map((row) => [row.id, row.plan_price_id]))).toEqual({
      [expiring.id]: null,
      [canceling.id]: null,
      [trialTenant.id]: price.id,
    });
    clock.set(START);
  });

  it('records a subscription that fails to renew, retries it with backoff, tells it once per streak, and renews the others', async () => {
    clock.set(START);
    const product = await createProduct(landlord.admin);
    const price = await createPlanPrice(landlord.admin, product.name);
    const subs: { id: string; tenantId: string }[] = [];
    for (let index = 0; index < 3; index += 1) {
      const tenant = await createTenant(landlord.admin, product.name);
      subs.push((await landlord.admin.post(sub(tenant.name), { price: price.price })).body.data);
    }
    const failing = subs[1];
    if (!failing) throw new Error('no subscription');
    const { db } = landlord.node.services;
    await sql`create or replace function refuse_renewal() returns trigger language plpgsql as $$
      begin
        if new.subscription_id = ${sql.lit(failing.id)}::uuid and new.number > 0 then raise exception 'renewal refused by the test'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger refuse_renewal before insert on subscription_periods for each row execute function refuse_renewal()`.execute(
      db,
    );
    try {
      clock.set(new Date('2024-02-29T10:00:00.000Z'));
      await sweep();
      for (const other of [subs[0], subs[2]]) expect(await periodsOf(other?.id ?? '')).toHaveLength(2);
      expect(await periodsOf(failing.id)).toHaveLength(1);
      const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', failing.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ renewal_failures: 1, status: 'active' });
      expect(row.renewal_error).toContain('renewal refused by the test');
      clock.advance(60_000);
      await sweep();
      expect(
        (await db.selectFrom('subscriptions').select('renewal_failures').where('id', '=', failing.id).executeTakeFirstOrThrow())
          .renewal_failures,
      ).toBe(2);
      expect((await typesOf(failing.tenantId)).filter((type) => type === 'subscription.renewal_failed')).toHaveLength(1);
      const metrics = await landlord.as(undefined).get('/metrics');
      expect(metrics.text).toMatch(/landlord_subscription_renewals_total\{outcome="failed"\} [2-9]/);
    } finally {
      await sql`drop trigger refuse_renewal on subscription_periods`.execute(db);
    }
    clock.advance(3_600_000);
    await sweep();
    expect(await periodsOf(failing.id)).toHaveLength(2);
    const healed = await db.selectFrom('subscriptions').selectAll().where('id', '=', failing.id).executeTakeFirstOrThrow();
    expect(healed).toMatchObject({ renewal_failures: 0, renewal_error: null, current_period_number: 1 });
    clock.set(START);
  });
});
