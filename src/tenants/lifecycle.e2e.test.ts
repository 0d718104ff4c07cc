import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { eventOf, ROSAAS, tenantOf, type WiredProduct, wireProduct } from '../../test/helpers/rosaas.ts';
import type { Principal } from '../access/principal.ts';
import { deleteEventually } from './lifecycle.service.ts';

const ADMIN: Principal = { kind: 'admin_key', id: 'test', role: 'super_admin', productId: null, name: 'test' };

let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { autoSendCreation: false, requestTimeoutSeconds: 1, maxAttempts: 4 });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});
beforeEach(() => {
  backend.behave(() => ({ status: 200, body: {} }));
});

/** The backend reports the outcome of `event` for `name` through the RoSaaS API. */
const report = (name: string, outcome: string, body?: unknown) => wired.backend.post(`${ROSAAS}/tenants/${name}/${outcome}`, body ?? {});

async function newTenant(specifications: Record<string, unknown> = {}) {
  const name = uniqueName('lc');
  const created = await wired.backend.post(`${ROSAAS}/tenants`, {
    tenantSystemName: name,
    tenantDisplayName: `Tenant ${name}`,
    specifications: Object.entries(specifications).map(([systemName, value]) => ({ systemName, value })),
  });
  expect(created.status).toBe(201);
  return name;
}

async function statusOf(name: string): Promise<{ status: string; failedStep: string | null; actions: string[] }> {
  return (await landlord.admin.get(`/v1/tenants/${name}`)).body.data;
}

const reaches = (name: string, status: string, timeoutMs = 10_000) =>
  eventually(async () => ((await statusOf(name)).status === status ? true : undefined), timeoutMs, `${name} → ${status}`);

/** Reports `outcome` once Landlord has taken the backend's answer (the tenant is in its working status). */
const reportWhen = (name: string, working: string, outcome: string) => async () => {
  await reaches(name, working);
  await report(name, outcome);
};

const callsFor = (name: string, event?: string) =>
  backend.requests.filter((request) => tenantOf(request.path) === name && (!event || eventOf(request.path) === event));

describe('the creation step, callback mode', () => {
  it('calls the backend exactly as RoSaaS does, waits for the report, and completes', async () => {
    const name = await newTenant();
    backend.behave(() => ({ status: 200, after: reportWhen(name, 'creating', 'created') }));
    expect((await wired.backend.post(`${ROSAAS}/tenants/${name}`)).status).toBe(200);
    await reaches(name, 'created_as_active');

    const [call] = callsFor(name, 'creation');
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe(`/api/integration/${name}/creation`);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.headers['api-key']).toBe(wired.apiKey);
    expect(call?.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(call?.body).toEqual({ tenantName: name });

    const history = (await landlord.admin.get(`/v1/tenants/${name}/history`)).body.data;
    const transitions = history.filter((entry: any) => entry.kind === 'transition').map((entry: any) => `${entry.from}→${entry.to}`);
    expect(transitions).toEqual([
      'record_created→sending_creation_request',
      'sending_creation_request→creating',
      'creating→created_as_active',
    ]);
    const callEntry = history.find((entry: any) => entry.kind === 'call');
    expect(callEntry.detail).toMatchObject({
      url: `${backend.url}/api/integration/${name}/creation`,
      status: 200,
      attempt: 1,
      verdict: 'success',
    });
    expect(typeof callEntry.detail.durationMs).toBe('number');
    expect(history.find((entry: any) => entry.kind === 'report').detail.report).toBe('created');
  });

  it('takes a report that arrives before the answer, and lets the late answer change nothing', async () => {
    const name = await newTenant();
    backend.behave((request) => ({ status: 200, before: () => report(tenantOf(request.path), 'created').then(() => {}) }));
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'created_as_active');
    const calls = await eventually(async () => {
      const entries = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data;
      return entries.length ? entries : undefined;
    });
    expect(calls[0].detail.verdict).toBe('late');
    expect((await statusOf(name)).status).toBe('created_as_active');
  });

  it('applies the answer under the lock when the tenant changed during the call but is still in the step', async () => {
    const name = await newTenant();
    // The backend writes the tenant's metadata before it answers: same step, another version.
    backend.behave((request) => ({
      status: 200,
      before: () => wired.backend.post(`${ROSAAS}/tenants/${tenantOf(request.path)}/metadata`, { region: 'eu' }).then(() => {}),
    }));
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'creating');
    const calls = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data;
    expect(calls.map((entry: any) => entry.detail.verdict)).toEqual(['success']);
    expect((await landlord.admin.get(`/v1/tenants/${name}/metadata`)).body.data).toEqual({ region: 'eu' });
  });

  it('carries each specification value as a top-level key of the creation call', async () => {
    await landlord.admin.post(`/v1/products/${wired.product.name}/specifications`, {
      name: 'seats',
      displayName: 'Seats',
      type: 'number',
      required: false,
    });
    await landlord.admin.post(`/v1/products/${wired.product.name}/specifications/seats/publish`);
    const name = await newTenant({ seats: '12' });
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    const call = await backend.waitFor((request) => tenantOf(request.path) === name);
    expect(call.body).toEqual({ tenantName: name, seats: 12 });
  });
});

describe('calls that fail', () => {
  it('retries 500s and timeouts with the same step id, then succeeds', async () => {
    const name = await newTenant();
    let attempt = 0;
    backend.behave(() => {
      attempt += 1;
      if (attempt === 1) return { status: 500 };
      if (attempt === 2) return { status: 200, delayMs: 1500 };
      return { status: 200 };
    });
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'creating');
    const calls = callsFor(name, 'creation');
    expect(calls.length).toBe(3);
    expect(new Set(calls.map((call) => call.headers['idempotency-key'])).size).toBe(1);
    expect(calls.map((call) => call.headers['x-landlord-attempt'])).toEqual(['1', '2', '3']);
    const verdicts = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data.map(
      (entry: any) => entry.detail.verdict,
    );
    expect(verdicts).toEqual(['retry', 'retry', 'success']);
  });

  it('honours Retry-After on a 429', async () => {
    const name = await newTenant();
    let attempt = 0;
    backend.behave(() => (++attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'creating');
    const [first, second] = callsFor(name, 'creation');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('returns a refused creation (a 4xx) to record_created', async () => {
    const name = await newTenant();
    backend.behave(() => ({ status: 400, body: { error: 'bad tenant' } }));
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await eventually(async () => ((await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data.length ? true : undefined));
    await reaches(name, 'record_created');
    expect(callsFor(name).length).toBe(1);
    const history = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data;
    expect(history[0].detail).toMatchObject({ status: 400, verdict: 'permanent', responseBody: '{"error":"bad tenant"}' });
  });

  it('moves a step whose budget is spent to failure, and retry then completes it', async () => {
    const name = await newTenant();
    backend.behave((request) => ({ status: 200, after: () => report(tenantOf(request.path), 'created').then(() => {}) }));
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'created_as_active');
    backend.behave(() => ({ status: 503 }));
    const requested = await wired.backend.post(`${ROSAAS}/tenants/${name}/DeactivationRequest`);
    expect(requested.status, requested.text).toBe(200);
    await reaches(name, 'failure', 15_000);
    const failed = await statusOf(name);
    expect(failed.failedStep).toBe('deactivation');
    expect(failed.actions).toEqual(expect.arrayContaining(['retry', 'undo', 'delete']));
    expect(callsFor(name, 'deactivation').length).toBe(4);

    backend.behave((request) => ({ status: 200, after: () => report(tenantOf(request.path), 'inactive').then(() => {}) }));
    expect((await landlord.admin.post(`/v1/tenants/${name}/retry`)).status).toBe(200);
    await reaches(name, 'inactive');
  });

  it('retries through a backend that refuses connections until it is back', async () => {
    const name = await newTenant();
    await backend.down();
    try {
      await wired.backend.post(`${ROSAAS}/tenants/${name}`);
      await eventually(async () => {
        const calls = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data;
        return calls.length >= 1 ? true : undefined;
      });
      const first = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=call`)).body.data[0];
      expect(first.detail).toMatchObject({ code: 'ECONNREFUSED', verdict: 'retry' });
    } finally {
      await backend.up();
    }
    await reaches(name, 'creating');
  });
});

describe('reports and recovery', () => {
  it('times out a step whose report never comes, and a late success report still completes it', async () => {
    const slow = await wireProduct(landlord, backend, { autoSendCreation: true, callbackTimeoutSeconds: 1 });
    const name = uniqueName('late');
    await slow.backend.post(`${ROSAAS}/tenants`, { tenantSystemName: name, tenantDisplayName: 'Late' });
    await reaches(name, 'failure', 10_000);
    const failed = (await landlord.admin.get(`/v1/tenants/${name}`)).body.data;
    expect(failed.failedStep).toBe('creation');
    expect((await slow.backend.post(`${ROSAAS}/tenants/${name}/created`, {})).status).toBe(200);
    await reaches(name, 'created_as_active');
  });

  it('keeps the failure report body as the reason, and undo returns to the last stable status', async () => {
    const name = await newTenant();
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'creating');
    expect((await report(name, 'failure', { error: 'disk full', code: 507 })).status).toBe(200);
    await reaches(name, 'failure');
    const transitions = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=transition`)).body.data;
    expect(transitions.at(-1).detail.failureReason).toEqual({ error: 'disk full', code: 507 });
    expect((await landlord.admin.post(`/v1/tenants/${name}/undo`, { reason: 'try again tomorrow' })).status).toBe(200);
    expect((await statusOf(name)).status).toBe('record_created');
  });

  it('runs deactivation, activation and deletion to the end, after which nothing is allowed', async () => {
    backend.behave((request) => {
      const outcome = { creation: 'created', activation: 'active', deactivation: 'inactive', deletion: 'deleted' }[eventOf(request.path)];
      return { status: 200, after: () => report(tenantOf(request.path), outcome ?? 'failure').then(() => {}) };
    });
    const name = await newTenant();
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'created_as_active');
    await wired.backend.post(`${ROSAAS}/tenants/${name}/DeactivationRequest`);
    await reaches(name, 'inactive');
    await wired.backend.post(`${ROSAAS}/tenants/${name}/ActivationRequest`);
    await reaches(name, 'active');
    expect((await landlord.admin.delete(`/v1/tenants/${name}`)).status).toBe(409);
    await landlord.admin.post(`/v1/tenants/${name}/deactivate`);
    await reaches(name, 'inactive');
    expect((await landlord.admin.delete(`/v1/tenants/${name}`)).status).toBe(200);
    await reaches(name, 'deleted');
    expect((await statusOf(name)).actions).toEqual([]);
    expect(callsFor(name).map((call) => eventOf(call.path))).toEqual([
      'creation',
      'deactivation',
      'activation',
      'deactivation',
      'deletion',
    ]);
    const refused = await landlord.admin.post(`/v1/tenants/${name}/activate`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0].code).toBe('tenant.transition_not_allowed');
  });

  it('deletes a live tenant eventually (deactivation first), and forgets that when the deactivation fails', async () => {
    const { db, clock } = landlord.node.services;
    const caller = { principal: ADMIN, actor: { type: 'admin_key' as const, id: 'test', requestId: null } };
    const live = async () => {
      const name = await newTenant();
      backend.behave(() => ({ status: 200, after: reportWhen(name, 'creating', 'created') }));
      await wired.backend.post(`${ROSAAS}/tenants/${name}`);
      await reaches(name, 'created_as_active');
      backend.behave(() => ({ status: 200 }));
      return name;
    };
    const cancel = (name: string) => db.transaction().execute((tx) => deleteEventually(tx, { clock }, caller, name, 'customer cancelled'));

    const cancelled = await live();
    expect((await cancel(cancelled)).status).toBe('sending_deactivation_request');
    await reaches(cancelled, 'deactivating');
    await report(cancelled, 'inactive');
    await reaches(cancelled, 'deleting');
    expect(callsFor(cancelled).map((call) => eventOf(call.path))).toEqual(['creation', 'deactivation', 'deletion']);

    const kept = await live();
    await cancel(kept);
    await reaches(kept, 'deactivating');
    await report(kept, 'failure', { error: 'busy' });
    await reaches(kept, 'failure');
    await landlord.admin.post(`/v1/tenants/${kept}/undo`);
    await reaches(kept, 'created_as_active');
    await landlord.admin.post(`/v1/tenants/${kept}/deactivate`);
    await reaches(kept, 'deactivating');
    await report(kept, 'inactive');
    await reaches(kept, 'inactive');
    expect(callsFor(kept).map((call) => eventOf(call.path))).toEqual(['creation', 'deactivation', 'deactivation']);
  });

  it('deletes a record that never reached the backend without calling it', async () => {
    const name = await newTenant();
    const deleted = await landlord.admin.delete(`/v1/tenants/${name}`);
    expect(deleted.body.data.status).toBe('deleted');
    expect(callsFor(name)).toEqual([]);
  });

  it('treats a repeated report as a harmless success and refuses one that does not fit (409, nothing changes)', async () => {
    backend.behave((request) => ({ status: 200, after: () => report(tenantOf(request.path), 'created').then(() => {}) }));
    const name = await newTenant();
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'created_as_active');
    expect((await report(name, 'created')).status).toBe(200);
    const before = (await landlord.admin.get(`/v1/tenants/${name}/history`)).body.data.length;
    const wrong = await report(name, 'deleted');
    expect(wrong.status).toBe(409);
    expect(wrong.body.metadata.success).toBe(false);
    expect((await statusOf(name)).status).toBe('created_as_active');
    expect((await landlord.admin.get(`/v1/tenants/${name}/history`)).body.data.length).toBe(before);
  });

  it('lets exactly one of two concurrent actions win', async () => {
    backend.behave((request) => ({ status: 200, after: () => report(tenantOf(request.path), 'created').then(() => {}) }));
    const name = await newTenant();
    const answers = await Promise.all([
      landlord.admin.post(`/v1/tenants/${name}/send-creation-request`),
      landlord.admin.post(`/v1/tenants/${name}/send-creation-request`),
      landlord.admin.delete(`/v1/tenants/${name}`),
    ]);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(2);
  });

  it('sends the creation request on creation when the product asks for it', async () => {
    const auto = await wireProduct(landlord, backend, { autoSendCreation: true });
    const name = uniqueName('auto');
    const created = await landlord.admin.post('/v1/tenants', { product: auto.product.name, name, displayName: 'Auto' });
    expect(created.body.data.status).toBe('sending_creation_request');
    await backend.waitFor((request) => tenantOf(request.path) === name);
    // Written with the record in one statement: the transition, its call and both events, in order.
    const history = (await landlord.admin.get(`/v1/tenants/${name}/history?kind=transition`)).body.data;
    expect(history.map((entry: any) => [entry.action, entry.from, entry.to, entry.actor.type])).toEqual([
      ['send_creation_request', 'record_created', 'sending_creation_request', 'system'],
      ...history.slice(1).map((entry: any) => [entry.action, entry.from, entry.to, entry.actor.type]),
    ]);
    const { db } = landlord.node.services;
    const events = await db
      .selectFrom('events')
      .where('tenant_id', '=', created.body.data.id)
      .orderBy('tenant_seq')
      .select(['type', 'tenant_seq', 'data'])
      .execute();
    expect(events.slice(0, 2).map((event) => [event.type, Number(event.tenant_seq)])).toEqual([
      ['tenant.created', 1],
      ['tenant.status_changed', 2],
    ]);
    expect(events[1]?.data).toMatchObject({
      from: 'record_created',
      to: 'sending_creation_request',
      tenant: { status: 'sending_creation_request' },
    });
  });

  it('takes the native report endpoint too', async () => {
    const name = await newTenant();
    await wired.backend.post(`${ROSAAS}/tenants/${name}`);
    await reaches(name, 'creating');
    const reported = await wired.backend.post(`/v1/tenants/${name}/report`, {
      status: 'created',
      details: { url: 'https://acme.example' },
    });
    expect(reported.status).toBe(200);
    expect(reported.body.data).toMatchObject({ applied: true, tenant: { status: 'created_as_active' } });
    const again = await wired.backend.post(`/v1/tenants/${name}/report`, { status: 'created' });
    expect(again.body.data.applied).toBe(false);
  });
});
