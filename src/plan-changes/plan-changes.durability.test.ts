import pg from 'pg';
import { expect, it } from 'vitest';
import { eventually, type RecordedRequest } from '../../test/helpers/backend-simulator.ts';
import { useCrashHarness } from '../../test/helpers/crash-harness.ts';
import { createTenant } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { TEST_ADMIN_KEY } from '../../test/helpers/landlord.ts';
import { type LandlordProcess, spawnLandlord } from '../../test/helpers/process.ts';
import { eventOf, ROSAAS, tenantOf, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import { publishedPrice } from './plan-changes.test-support.ts';

// Plan changes survive a SIGKILL of a real Landlord process and run on two processes at once: each change is
// applied exactly once — one credit and one charge line, one move of the tenant's plan, one event — however the
// calls, their answers and the backend's reports fall around the crashes.

const crash = useCrashHarness();
const { started } = crash;
const TENANTS = 6;
const DAY_MS = 86_400_000;

async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: crash.database.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function start(extra: Record<string, string> = {}): Promise<LandlordProcess> {
  const process = await spawnLandlord({ ...crash.env(), LANDLORD_HEALTH_CONCURRENCY: '0', ...extra });
  started.push(process);
  return process;
}

async function kill(process: LandlordProcess): Promise<void> {
  if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await process.exited;
}

/** The product's backend as a RoSaaS client of the Landlord at `url`. */
async function backendOf(url: string, wired: WiredProduct): Promise<ApiClient> {
  const auth = await apiClient(url).post('/api/identity/apps/v1/auth', { clientId: wired.clientId, clientSecret: wired.clientSecret });
  if (auth.status !== 200) throw new Error(`auth: ${auth.status} ${auth.text}`);
  return apiClient(url, auth.body.data.token.accessToken);
}

/** What the changes of `tenantIds` wrote, per tenant: the change, its proration lines, its events and audit records, the plan. */
async function outcomes(tenantIds: string[]) {
  const rows = await query<{
    tenant_id: string;
    changes: string[];
    statuses: string[];
    lines: string[];
    proration_invoices: number;
    changed_events: number;
    requested_events: number;
    applied_audits: number;
    plan_price_id: string;
    price_id: string;
    periods: number;
  }>(
    `select t.id as tenant_id, t.plan_price_id, s.price_id,
       array(select c.id::text from subscription_changes c where c.tenant_id = t.id order by c.id) as changes,
       array(select c.status from subscription_changes c where c.tenant_id = t.id order by c.id) as statuses,
       array(select l.source_key from invoice_lines l join invoices i on i.id = l.invoice_id
             where i.tenant_id = t.id and l.kind = 'proration' order by l.source_key) as lines,
       (select count(distinct l.invoice_id) from invoice_lines l join invoices i on i.id = l.invoice_id
        where i.tenant_id = t.id and l.kind = 'proration')::int as proration_invoices,
       (select count(*) from events e where e.tenant_id = t.id and e.type = 'subscription.plan_changed')::int as changed_events,
       (select count(*) from events e where e.tenant_id = t.id and e.type = 'subscription.plan_change_requested')::int as requested_events,
       (select count(*) from audit_log a where a.object_type = 'subscription' and a.object_id::text = s.id::text
        and a.action = 'subscription.plan_change_applied')::int as applied_audits,
       (select count(*) from subscription_periods p where p.subscription_id = s.id)::int as periods
     from tenants t join subscriptions s on s.tenant_id = t.id
     where t.id = any($1::uuid[]) order by t.id`,
    [tenantIds],
  );
  return rows;
}

it('applies each immediate plan change exactly once after SIGKILLs while calls are in flight and right after the backend confirms', async () => {
  const calls: RecordedRequest[] = [];
  let hold = true;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // In phase 2 the backend answers once the early reports are in, so the crash cannot cut them off.
  let reportsIn: () => void = () => {};
  const early = new Promise<void>((resolve) => {
    reportsIn = resolve;
  });
  let onConfirm: (() => void) | undefined;
  // Names of the response-mode tenants: their calls are the ones held, then confirmed.
  const response = new Set<string>();
  crash.backend.behave((request) => {
    if (eventOf(request.path) !== 'upgrade') return { status: 200, body: {} };
    calls.push(request);
    if (response.has(tenantOf(request.path))) {
      // Phase 1: the backend is slow; the process dies with the calls in flight.
      if (hold) return { before: () => held, status: 200 };
      // Phase 2: the backend confirms, and the process dies right after the 2xx has left.
      return { before: () => early, status: 200, after: async () => onConfirm?.() };
    }
    return { status: 200, body: { accepted: true } };
  });

  const first = await start();
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const landlord = { admin, url: first.url };
  const answering = await wireProduct(landlord, crash.backend, { mode: 'response', maxAttempts: 50 });
  const reporting = await wireProduct(landlord, crash.backend, { mode: 'callback', callbackTimeoutSeconds: 3600, maxAttempts: 50 });
  const tenants: Record<'response' | 'callback', { id: string; name: string }[]> = { response: [], callback: [] };
  const target: Record<string, string> = {};
  for (const [mode, wired] of [
    ['response', answering],
    ['callback', reporting],
  ] as const) {
    const p100 = await publishedPrice(admin, wired.product.name, 10_000);
    const p200 = await publishedPrice(admin, wired.product.name, 20_000);
    for (let index = 0; index < TENANTS; index++) {
      const tenant = await createTenant(admin, wired.product.name);
      if (mode === 'response') response.add(tenant.name);
      expect((await admin.post(`/v1/tenants/${tenant.name}/subscription`, { price: p100.name })).status).toBe(201);
      tenants[mode].push(tenant);
      target[tenant.id] = p200.id;
    }
    const asked = await Promise.all(
      tenants[mode].map((tenant) => admin.post(`/v1/tenants/${tenant.name}/subscription/changes`, { price: p200.name })),
    );
    expect(asked.map((answer) => answer.status)).toEqual(tenants[mode].map(() => 201));
  }
  const all = [...tenants.response, ...tenants.callback];
  const ids = all.map((tenant) => tenant.id);

  // Phase 1: every response-mode call is in flight at the backend, every callback-mode change accepted and awaiting its report.
  await eventually(async () => {
    const calling = new Set(calls.map((request) => tenantOf(request.path)));
    const awaiting = await query<{ n: number }>(
      `select count(*)::int as n from subscription_changes where tenant_id = any($1::uuid[]) and status = 'awaiting_report'`,
      [tenants.callback.map((tenant) => tenant.id)],
    );
    return tenants.response.every((tenant) => calling.has(tenant.name)) && awaiting[0]?.n === TENANTS ? true : undefined;
  }, 60_000);
  await kill(first);
  hold = false;
  release();

  // Phase 2: half the callback reports come in; the process dies right after the backend confirms its first retried call.
  const second = await start();
  let confirmed = false;
  onConfirm = () => {
    confirmed = true;
    second.child.kill('SIGKILL');
  };
  const reporter = await backendOf(second.url, reporting);
  for (const tenant of tenants.callback.slice(0, TENANTS / 2)) {
    expect((await reporter.post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, {})).status).toBe(200);
  }
  reportsIn();
  await eventually(async () => (confirmed ? true : undefined), 60_000, 'a retried call confirmed');
  await second.exited;

  // Phase 3: the backend reports every callback change (again, for the early ones: a no-op) and the rest is retried.
  onConfirm = undefined;
  const third = await start();
  const again = await backendOf(third.url, reporting);
  for (const tenant of tenants.callback) {
    expect((await again.post(`${ROSAAS}/tenants/${tenant.name}/subscription/upgrade`, {})).status).toBe(200);
  }
  await eventually(
    async () => ((await outcomes(ids)).every((row) => row.statuses.join() === 'applied') ? true : undefined),
    90_000,
    'every change applied',
  );
  // Let the retried jobs and late answers settle: nothing more may be written.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const rows = await outcomes(ids);
  for (const row of rows) {
    const [change] = row.changes;
    expect(row).toMatchObject({
      changes: [change],
      statuses: ['applied'],
      lines: [`proration:${change}:charge`, `proration:${change}:credit`],
      proration_invoices: 1,
      changed_events: 1,
      requested_events: 1,
      applied_audits: 1,
      plan_price_id: target[row.tenant_id],
      price_id: target[row.tenant_id],
      periods: 1,
    });
  }
  // The calls held when the first process died were made again, with the change's id as the idempotency key each time.
  const changeOf = new Map(rows.map((row) => [row.tenant_id, row.changes[0]]));
  for (const tenant of tenants.response) {
    const attempts = calls.filter((request) => tenantOf(request.path) === tenant.name);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((request) => request.headers['idempotency-key']))).toEqual(new Set([changeOf.get(tenant.id)]));
  }
  third.child.kill('SIGTERM');
  expect(await third.exited).toBe(0);
}, 240_000);

it('applies period-end plan changes due in the same second once each with two Landlord processes on one database', async () => {
  crash.backend.behave(() => ({ status: 200, body: {} }));
  const a = await start();
  const b = await start();
  const admin = apiClient(a.url, TEST_ADMIN_KEY);
  const wired = await wireProduct({ admin, url: a.url }, crash.backend, { mode: 'response', maxAttempts: 50 });
  const p100 = await publishedPrice(admin, wired.product.name, 10_000, { cycle: 'day' });
  const p200 = await publishedPrice(admin, wired.product.name, 20_000, { cycle: 'day' });
  const count = 200;
  // Every subscription's first day ended at the same second, with a downgrade scheduled for that boundary: the
  // renewal is held, and both processes' sweeps and workers race to call for the changes and apply them.
  const boundary = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  const anchor = new Date(boundary.getTime() - DAY_MS);
  const client = new pg.Client({ connectionString: crash.database.url });
  await client.connect();
  try {
    await client.query(
      `with t as (
         insert into tenants (id, product_id, name, display_name, plan_price_id)
         select gen_random_uuid(), $1, 'twonode-change-' || g, 'Seeded', $2 from generate_series(1, $4::int) as g
         returning id),
       s as (
         insert into subscriptions (id, product_id, tenant_id, price_id, status, cycle_unit, cycle_count, amount_minor, currency, time_zone,
           anchor_at, anchor_number, start_at, auto_renew, current_period_number, current_period_start, current_period_end, next_action_at,
           created_at, updated_at)
         select gen_random_uuid(), $1, t.id, $2, 'active', 'day', 1, 20000, 'EUR', 'UTC', $5::timestamptz, 0, $5::timestamptz, true, 0,
           $5::timestamptz, $6::timestamptz, $6::timestamptz, now(), now()
         from t returning id, tenant_id),
       p as (
         insert into subscription_periods (id, subscription_id, product_id, tenant_id, number, start_at, end_at, price_id, amount_minor,
           currency, trial, created_at)
         select gen_random_uuid(), s.id, $1, s.tenant_id, 0, $5::timestamptz, $6::timestamptz, $2, 20000, 'EUR', false, now() from s)
       insert into subscription_changes (id, subscription_id, product_id, tenant_id, kind, timing, from_price_id, to_price_id, status,
         effective_at, period_number, requested_by_type, requested_by_id, created_at, updated_at)
       select gen_random_uuid(), s.id, $1, s.tenant_id, 'downgrade', 'period_end', $2, $3, 'scheduled', $6::timestamptz, 0, 'operator',
         'test', now(), now()
       from s`,
      [wired.product.id, p200.id, p100.id, count, anchor, boundary],
    );
  } finally {
    await client.end();
  }
  await eventually(
    async () => {
      const [row] = await query<{ n: number }>(
        `select count(*)::int as n from subscription_changes where product_id = $1 and status = 'applied'`,
        [wired.product.id],
      );
      return row?.n === count ? true : undefined;
    },
    120_000,
    'every change applied',
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const rows = await query<{
    periods: string[];
    invoices: number;
    changed_events: number;
    renewed_events: number;
    plan_price_id: string;
    price_id: string;
  }>(
    `select t.plan_price_id, s.price_id,
       array(select p.number || ':' || p.price_id || ':' || extract(epoch from p.start_at)::bigint from subscription_periods p
             where p.subscription_id = s.id order by p.number) as periods,
       (select count(*) from invoices i where i.subscription_id = s.id)::int as invoices,
       (select count(*) from events e where e.tenant_id = t.id and e.type = 'subscription.plan_changed')::int as changed_events,
       (select count(*) from events e where e.tenant_id = t.id and e.type = 'subscription.renewed')::int as renewed_events
     from subscriptions s join tenants t on t.id = s.tenant_id where s.product_id = $1`,
    [wired.product.id],
  );
  expect(rows).toHaveLength(count);
  const expected = {
    periods: [`0:${p200.id}:${anchor.getTime() / 1000}`, `1:${p100.id}:${boundary.getTime() / 1000}`],
    invoices: 1,
    changed_events: 1,
    renewed_events: 1,
    plan_price_id: p100.id,
    price_id: p100.id,
  };
  expect(rows.filter((row) => JSON.stringify(row) !== JSON.stringify({ ...row, ...expected }))).toEqual([]);
  // Every change was called for under its own idempotency key, and both processes made calls.
  const keys = new Set(
    crash.backend.requests.filter((request) => eventOf(request.path) === 'downgrade').map((r) => r.headers['idempotency-key']),
  );
  expect(keys.size).toBe(count);
  const nodes = await query<{ node: string }>(
    `select distinct detail->>'node' as node from tenant_timeline tl join tenants t on t.id = tl.tenant_id
     where t.product_id = $1 and tl.kind = 'call' and tl.action = 'downgrade'`,
    [wired.product.id],
  );
  expect(nodes).toHaveLength(2);
  for (const process of [a, b]) {
    process.child.kill('SIGTERM');
    expect(await process.exited).toBe(0);
  }
}, 240_000);
