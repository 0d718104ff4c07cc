import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleBackend } from '../examples/rosaas-backend.ts';
import { eventsOf } from '../src/usage/usage.test-support.ts';
import { eventually } from './helpers/backend-simulator.ts';
import { freePort } from './helpers/free-port.ts';
import { apiClient } from './helpers/http.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from './helpers/landlord.ts';
import { hasField, type ReadmeShell, readmeBlocks, shownFields, startReadmeShell } from './helpers/readme.ts';

// The README's walk-through, in the README's order: the integration is done here as its text says (the example
// backend in-process), then every `sh` block of the sections after it runs in one bash session with curl, as a
// reader pastes them, against this Landlord and this backend. Each answer the README shows is checked.

let landlord: TestLandlord;
let backend: Server;
let shell: ReadmeShell;
/** Where the example backend listens; the README's blocks say 127.0.0.1:4000. */
let backendHost: string;

beforeAll(async () => {
  landlord = await startTestLandlord();
  // The upgrade's proration counts calendar days in Berlin, from the subscription's start a month earlier: the
  // README's amounts hold when both fall on one local day there, so do not start in the last 45 s of a Berlin day.
  const berlin = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const [hours = 0, minutes = 0, seconds = 0] = berlin.format(new Date()).split(':').map(Number);
  const untilMidnight = 86_400 - (hours * 3600 + minutes * 60 + seconds);
  if (untilMidnight <= 45) await new Promise((resolve) => setTimeout(resolve, (untilMidnight + 1) * 1000));
});
afterAll(async () => {
  shell?.close();
  backend?.close();
  await landlord?.close();
});

/** Runs one README block in the shell (with the backend where it listens); its answers, each field its comments show checked. */
async function runBlock(block: string): Promise<unknown[]> {
  const answers = await shell.run(block.replaceAll('127.0.0.1:4000', backendHost));
  for (const [key, value] of shownFields(block))
    expect(hasField(answers, key, value), `the README shows "${key}": ${JSON.stringify(value)} in:\n${block}`).toBe(true);
  return answers;
}

/** Runs the README's `sh` blocks of a section; the answers of each block. */
async function runSection(heading: string): Promise<unknown[][]> {
  const answers: unknown[][] = [];
  for (const block of await readmeBlocks(heading)) answers.push(await runBlock(block));
  return answers;
}

/** The `data` of a native answer, after checking that it succeeded. */
function data(answer: unknown): Record<string, any> {
  expect((answer as { metadata?: unknown }).metadata, JSON.stringify(answer)).toMatchObject({ success: true });
  return (answer as { data: Record<string, any> }).data;
}

async function tenantStatus(name: string): Promise<string> {
  return (await landlord.admin.get(`/v1/tenants/${name}`)).body.data.status;
}

async function statusBecomes(name: string, status: string): Promise<void> {
  await eventually(async () => ((await tenantStatus(name)) === status ? true : undefined), 20_000, `${name} ${status}`);
}

describe('the README walk-through', () => {
  it('integrates the example backend: it takes acme through creation, deactivation and activation', async () => {
    // 1. The product, with the backend's URLs and the api key Landlord will send.
    const port = await freePort();
    backendHost = `127.0.0.1:${port}`;
    const apiKey = 'change-me-0123456789';
    const base = `http://${backendHost}/api/integration/{name}`;
    const product = await landlord.admin.post('/v1/products', {
      name: 'notes',
      displayName: 'Notes',
      apiKey,
      webhooks: {
        creation: `${base}/creation`,
        activation: `${base}/activation`,
        deactivation: `${base}/deactivation`,
        deletion: `${base}/deletion`,
      },
      healthCheck: { url: `${base}/health-status` },
    });
    expect(product.status).toBe(201);
    // 2. A client for the backend to call Landlord with.
    const client = await landlord.admin.post('/v1/products/notes/clients', { name: 'notes-backend' });
    const { clientId, clientSecret } = client.body.data;
    backend = await startExampleBackend({ landlordUrl: landlord.url, clientId, clientSecret, apiKey, port });

    // 3. A tenant: the creation request goes out at once, the backend reports "created".
    expect((await landlord.admin.post('/v1/tenants', { product: 'notes', name: 'acme', displayName: 'Acme' })).status).toBe(201);
    await statusBecomes('acme', 'created_as_active');
    await landlord.admin.post('/v1/tenants/acme/deactivate');
    await statusBecomes('acme', 'inactive');
    await landlord.admin.post('/v1/tenants/acme/activate');
    await statusBecomes('acme', 'active');

    // The sections after it call as an operator ($KEY) and as the backend's client ($TOKEN).
    const token = await apiClient(landlord.url).post('/v1/auth/token', {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    expect(token.status).toBe(200);
    shell = startReadmeShell({ LANDLORD: landlord.url, KEY: TEST_ADMIN_KEY, TOKEN: token.body.access_token });
  });

  it('subscribes acme to Basic, pays its invoice, cancels and withdraws, and renews it on the sandbox clock', async () => {
    const [answers = []] = await runSection('Subscriptions and invoices');
    expect(answers).toHaveLength(12);
    expect(data(answers[0])).toMatchObject({ timeZone: 'Europe/Berlin', trialWillEndDays: 3, sandbox: true });
    expect(data(answers[2])).toMatchObject({ name: 'basic-monthly', amount: 1000, currency: 'EUR', published: true });
    expect(data(answers[4])).toMatchObject({ name: 'pro-monthly', amount: 2900, currency: 'EUR', published: true });
    const subscription = data(answers[5]);
    expect(subscription).toMatchObject({ status: 'active', priceName: 'basic-monthly', currentPeriod: { number: 0 } });
    expect(subscription.actions).toEqual(expect.arrayContaining(['cancel', 'cancel_now']));
    expect(answers[6]).toMatchObject({ data: [{ number: 1, status: 'open', currency: 'EUR', total: 1000, paid: 0, due: 1000 }] });
    expect(data(answers[7])).toMatchObject({ invoice: { status: 'paid', due: 0 }, replayed: false });
    expect(data(answers[8]).cancelAt).toBe(subscription.currentPeriod.end);
    expect(data(answers[9]).cancelAt).toBeNull();
    // Not `renewed`: it counts what this call renewed, and a renewals sweep may take the due period first.
    expect(data(answers[10])).toMatchObject({ status: 'ready', waitingFor: [] });
    expect(answers[11]).toMatchObject({ data: [{ number: 0 }, { number: 1, amount: 1000 }] });
    const invoices = (await landlord.admin.get('/v1/tenants/acme/invoices?status=open')).body.data;
    expect(invoices).toMatchObject([{ number: 2, total: 1000 }]);
  });

  it('upgrades acme to Pro once the example backend confirms it, crediting all of Basic on the first day of the period', async () => {
    const blocks = await readmeBlocks('Plan changes');
    expect(blocks).toHaveLength(2);
    const asked = await runBlock(blocks[0] ?? '');
    // The example backend confirms the upgrade by itself; the reader's next command comes after it.
    await eventually(async () => {
      const changes = (await landlord.admin.get('/v1/tenants/acme/subscription/changes')).body.data;
      return changes[0]?.status === 'applied' ? true : undefined;
    });
    const confirmed = await runBlock(blocks[1] ?? '');
    expect(asked).toHaveLength(3);
    expect(data(asked[0]).webhooks).toMatchObject({ upgrade: `http://${backendHost}/api/integration/{name}/upgrade` });
    expect(data(asked[1])).toMatchObject({
      kind: 'upgrade',
      timing: 'now',
      lines: [
        { kind: 'credit', amount: -1000 },
        { kind: 'charge', amount: 2900 },
      ],
      total: 1900,
    });
    expect(data(asked[2])).toMatchObject({ kind: 'upgrade', timing: 'now', status: 'calling' });
    expect(confirmed).toHaveLength(2);
    expect(confirmed[0]).toMatchObject({
      data: [
        {
          kind: 'upgrade',
          status: 'applied',
          proration: [
            { kind: 'credit', amount: -1000 },
            { kind: 'charge', amount: 2900 },
          ],
        },
      ],
    });
    expect(data(confirmed[1])).toMatchObject({ priceName: 'pro-monthly', amount: 2900 });
  });

  it('bills acme once and every month: the first execution comes from the sweep at once', async () => {
    const blocks = await readmeBlocks('Bills and recurring bills');
    expect(blocks).toHaveLength(2);
    const created = await runBlock(blocks[0] ?? '');
    expect(created).toHaveLength(2);
    const bill = data(created[0]);
    expect(bill).toMatchObject({ status: 'submitted', currency: 'EUR', priceCents: 2000 });
    const subscription = (await landlord.admin.get('/v1/tenants/acme/subscription')).body.data;
    expect(bill.invoiceAt).toBe(subscription.currentPeriod.end);
    const recurring = data(created[1]);
    expect(recurring).toMatchObject({ status: 'submitted', executions: 0, remainingCycles: 12 });

    await eventually(async () => {
      const row = (await landlord.admin.get(`/v1/recurring-bills/${recurring.id}`)).body.data;
      return row.executions === 1 ? true : undefined;
    });
    const listed = await runBlock(blocks[1] ?? '');
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({ data: [{ status: 'active', executions: 1, remainingCycles: 11 }] });
    const bills = (listed[1] as { data: { description: string; execution: number | null }[] }).data;
    expect(bills.map((row) => [row.description, row.execution]).sort()).toEqual([
      ['Extra storage', 0],
      ['Onboarding workshop', null],
    ]);
  });

  it('takes the payment provider’s signed event for the upgrade’s invoice', async () => {
    const [answers = []] = await runSection('Payments and collection');
    expect(answers).toHaveLength(3);
    expect(data(answers[0])).toMatchObject({ provider: 'acmepay', collection: 'automatic', graceDays: 7 });
    expect(data(answers[0])).not.toHaveProperty('secret');
    expect(data(answers[1])).toMatchObject({ duplicate: false, applied: true });
    expect(data(answers[2])).toMatchObject({ status: 'paid', total: 1900, payments: [{ provider: 'acmepay', reference: 'ch_0001' }] });
  });

  it('meters acme’s API calls on Pro, refuses past the hard limit, and takes an operator’s correction', async () => {
    const [answers = []] = await runSection('Usage and entitlements');
    expect(answers).toHaveLength(7);
    for (const answer of answers) data(answer);
    expect(data(answers[2])).toMatchObject({ accepted: 1, events: [{ id: 'req-0001', outcome: 'accepted' }] });
    expect(data(answers[3])).toEqual({ allowed: false, used: 850, limit: 1000, remaining: 150 });
    expect(data(answers[6])).toMatchObject({ quantity: -100, used: 750 });

    const acme = (await landlord.admin.get('/v1/tenants/acme')).body.data;
    const thresholds = (await eventsOf(landlord, acme.id, 'usage.threshold_reached')).map(
      (event) => (event.data as { threshold: number }).threshold,
    );
    expect(thresholds).toEqual([80]);
    const check = await landlord.admin.post('/v1/tenants/acme/entitlements/api_calls/check', { quantity: 200 });
    expect(check.body.data).toEqual({ allowed: true, used: 750, limit: 1000, remaining: 250 });
  });

  it('sells notes through Maestrano: configuration, a group onboarded by the backend, the account API', async () => {
    const blocks = await readmeBlocks('Selling through a marketplace (Maestrano)');
    expect(blocks).toHaveLength(2);
    const onboarded = await runBlock(blocks[0] ?? '');
    expect(onboarded).toHaveLength(3);
    expect(onboarded[0]).toMatchObject({
      marketplaces: [{ marketplace: 'maestrano', environment: 'notes', api: { host: landlord.url, base: '/api/v1/' } }],
    });
    expect(data(onboarded[1])).toMatchObject({ uid: 'cld-1', tenant: { name: 'cld-1' }, name: 'Logistics Department' });
    expect(data(onboarded[2])).toMatchObject({ uid: 'usr-1', group: 'cld-1', role: 'Admin', productRoles: ['admin'] });

    await statusBecomes('cld-1', 'created_as_active');
    const app = await runBlock(blocks[1] ?? '');
    expect(app).toHaveLength(2);
    expect(app[0]).toMatchObject({ success: true, data: { object: 'account_group', id: 'cld-1', status: 'running' } });
    expect(app[1]).toMatchObject({ success: true, data: { object: 'account_bill', group_id: 'cld-1', status: 'submitted' } });
  });

  it('serves the Roomle tenant API over the same tenants, and creates one through it', async () => {
    const [answers = []] = await runSection('The Roomle tenant API');
    expect(answers).toHaveLength(4);
    data(answers[0]);
    expect(answers[1]).toMatchObject({
      tenants: [
        { id: 1000, name: 'acme', active: true, packages: [{ package: 'tenant_premium' }] },
        { id: 1001, name: 'cld-1', packages: [{ package: 'tenant_basic' }] },
      ],
      meta: { total: 2 },
    });
    expect(answers[2]).toMatchObject({ usages: [{ feature: 'api_calls', used: 750, adjusted: -100 }] });
    expect(answers[3]).toMatchObject({ tenant: { id: 1002, name: 'initech', label: 'Initech', apiKey: expect.any(String), packages: [] } });
    await statusBecomes('initech', 'created_as_active');
  });

  it('ends acme’s life: deactivated and deleted by the backend, its subscription cancelled', async () => {
    await landlord.admin.post('/v1/tenants/acme/deactivate');
    await statusBecomes('acme', 'inactive');
    await landlord.admin.delete('/v1/tenants/acme');
    await statusBecomes('acme', 'deleted');
    expect((await landlord.admin.get('/v1/tenants/acme/subscription')).body.data).toMatchObject({ status: 'canceled' });
  });
});
