import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createTenant } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { ROSAAS, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { manualClock } from '../platform/clock.ts';
import { publishedPrice } from './plan-changes.test-support.ts';

// An immediate plan change settles with the tenant locked, then the change, then the subscription; the renewal of
// the same subscription locks its tenant before the subscription too (ADR 0009), so the two never deadlock: each
// report answers 200 and each boundary opens exactly one period, whichever of the two gets there first.

const JAN_1 = new Date('2027-01-01T00:00:00.000Z');
const DAY_MS = 86_400_000;
const TENANTS = 8;
const ROUNDS = 6;

const clock = manualClock(JAN_1);
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { mode: 'callback', callbackTimeoutSeconds: 3600 });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function backendClient() {
  const auth = await apiClient(landlord.url).post('/api/identity/apps/v1/auth', {
    clientId: wired.clientId,
    clientSecret: wired.clientSecret,
  });
  return apiClient(landlord.url, auth.body.data.token.accessToken);
}

it('settles immediate plan changes and renews the same subscriptions at once, many times: no deadlock, no 500, one period per boundary', async () => {
  const cheap = await publishedPrice(landlord.admin, wired.product.name, 10_000, { cycle: 'day' });
  const dear = await publishedPrice(landlord.admin, wired.product.name, 20_000, { cycle: 'day' });
  const tenants: { id: string; name: string }[] = [];
  for (let index = 0; index < TENANTS; index++) {
    const tenant = await createTenant(landlord.admin, wired.product.name);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: cheap.name })).status).toBe(201);
    tenants.push(tenant);
  }
  const db = landlord.node.services.db;
  const renewals = landlord.node.sweeps.get('renewals');
  if (!renewals) throw new Error('no renewals sweep');

  for (let round = 1; round <= ROUNDS; round++) {
    // Before boundary `round`: every tenant asks for an immediate change (up on odd rounds, down — an operator's — on even).
    // Ten minutes before it, so that the reports (a minute after it) come well within their deadline (an hour, real time).
    clock.set(new Date(JAN_1.getTime() + round * DAY_MS - 600_000));
    const up = round % 2 === 1;
    const kind = up ? 'upgrade' : 'downgrade';
    const asked = await Promise.all(
      tenants.map((tenant) =>
        landlord.admin.post(`/v1/tenants/${tenant.name}/subscription/changes`, { price: up ? dear.name : cheap.name, timing: 'now' }),
      ),
    );
    expect(asked.map((response) => response.status)).toEqual(tenants.map(() => 201));
    const ids = asked.map((response) => response.body.data.id as string);
    await eventually(async () => {
      const waiting = await db
        .selectFrom('subscription_changes')
        .select('id')
        .where('id', 'in', ids)
        .where('status', '=', 'awaiting_report')
        .execute();
      return waiting.length === ids.length ? true : undefined;
    });
    // Past the boundary: the renewal is due while the backend's reports come in.
    clock.set(new Date(JAN_1.getTime() + round * DAY_MS + 60_000));
    const client = await backendClient();
    const [reports] = await Promise.all([
      Promise.all(tenants.map((tenant) => client.post(`${ROSAAS}/tenants/${tenant.name}/subscription/${kind}`, {}))),
      renewals.runNow(),
      renewals.runNow(),
    ]);
    expect(reports.map((report) => [report.status, report.body.metadata?.errors?.[0]?.code ?? 'ok'])).toEqual(
      tenants.map(() => [200, 'ok']),
    );
    await renewals.runNow();
  }

  for (const tenant of tenants) {
    const subscription = await db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(subscription).toMatchObject({ renewal_failures: 0, current_period_number: ROUNDS, price_id: ROUNDS % 2 ? dear.id : cheap.id });
    const periods = await db
      .selectFrom('subscription_periods')
      .select(['number', 'start_at'])
      .where('subscription_id', '=', subscription.id)
      .orderBy('number')
      .execute();
    expect(periods.map((period) => [period.number, period.start_at.getTime()])).toEqual(
      Array.from({ length: ROUNDS + 1 }, (_, number) => [number, JAN_1.getTime() + number * DAY_MS]),
    );
    // Every change applied once, with its two proration lines (credit and charge) on one invoice.
    const changes = await db
      .selectFrom('subscription_changes')
      .select(['id', 'status', 'invoice_id'])
      .where('subscription_id', '=', subscription.id)
      .execute();
    expect(changes.map((change) => change.status)).toEqual(Array.from({ length: ROUNDS }, () => 'applied'));
    const lines = await db
      .selectFrom('invoice_lines')
      .innerJoin('invoices', 'invoices.id', 'invoice_lines.invoice_id')
      .select(['invoice_lines.source_key', 'invoices.id as invoice_id'])
      .where('invoices.tenant_id', '=', tenant.id)
      .where('invoice_lines.kind', '=', 'proration')
      .execute();
    expect(lines.map((line) => line.source_key).sort()).toEqual(
      changes.flatMap((change) => [`proration:${change.id}:charge`, `proration:${change.id}:credit`]).sort(),
    );
    const events = await db
      .selectFrom('events')
      .select('type')
      .where('tenant_id', '=', tenant.id)
      .where('type', 'in', ['subscription.renewed', 'subscription.plan_changed', 'subscription.renewal_failed'])
      .execute();
    const count = (type: string) => events.filter((event) => event.type === type).length;
    expect([count('subscription.renewed'), count('subscription.plan_changed'), count('subscription.renewal_failed')]).toEqual([
      ROUNDS,
      ROUNDS,
      0,
    ]);
  }
}, 180_000);
