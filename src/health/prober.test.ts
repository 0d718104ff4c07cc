import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { freePort } from '../../test/helpers/process.ts';
import { type HealthRig, startHealthRig, TEST_CADENCE } from './health.test-support.ts';

let rig: HealthRig;
beforeAll(async () => {
  rig = await startHealthRig();
});
afterAll(async () => {
  await rig?.close();
});

const SECOND = 1000;

/** The availability changes in a tenant's timeline, oldest first. */
async function changesOf(name: string): Promise<string[]> {
  const history = await rig.landlord.admin.get(`/v1/tenants/${name}/history?kind=health`);
  expect(history.status).toBe(200);
  return history.body.data.map((entry: any) => `${entry.from}→${entry.to}`);
}

/** Events of `type` about the tenant, as the feed has them. */
async function eventsOf(tenantId: string, type: string): Promise<any[]> {
  const { rows } = await sql<{ data: any; occurred_at: Date }>`
    select data, occurred_at from events where tenant_id = ${tenantId} and type = ${type} order by tenant_seq`.execute(
    rig.landlord.node.services.db,
  );
  return rows;
}

/** Waits until the backend has received `count` unavailable calls for the tenant (the worker makes them). */
const awaitUnavailableCalls = (name: string, count: number) =>
  eventually(
    async () => (rig.unavailableCalls(name).length >= count ? rig.unavailableCalls(name) : undefined),
    10_000,
    `${count} unavailable call(s) for ${name}`,
  );

describe('a tenant answering 200', () => {
  it('is probed with GET and the api-key at its slot, becomes healthy, and is probed again one interval later', async () => {
    const tenant = await rig.liveTenant();
    expect(await rig.watched(tenant.name)).toMatchObject({ state: 'unknown', lastProbeAt: null, consecutiveFailures: 0 });
    const firstDue = await rig.nextProbeAt(tenant.name);
    const now = rig.clock.now().getTime();
    expect(firstDue.getTime()).toBeGreaterThan(now);
    expect(firstDue.getTime()).toBeLessThanOrEqual(now + TEST_CADENCE.intervalSeconds * SECOND);

    // Not due yet: nothing happens.
    await rig.round();
    expect(rig.healthChecks(tenant.name)).toHaveLength(0);

    await rig.probeNext(tenant.name);
    const [check] = rig.healthChecks(tenant.name);
    expect(check?.method).toBe('GET');
    expect(check?.headers['api-key']).toBe(rig.apiKey);
    const health = await rig.watched(tenant.name);
    expect(health).toMatchObject({ state: 'healthy', consecutiveFailures: 0, lastStatus: 200, lastError: null, paused: false });
    expect(health.lastProbeAt).toBe(firstDue.toISOString());
    expect(typeof health.latencyMs).toBe('number');
    expect(new Date(health.nextProbeAt ?? 0).getTime()).toBe(firstDue.getTime() + TEST_CADENCE.intervalSeconds * SECOND);

    await rig.probeNext(tenant.name);
    expect(rig.healthChecks(tenant.name)).toHaveLength(2);
    expect(await changesOf(tenant.name)).toEqual([]);
    expect(rig.unavailableCalls(tenant.name)).toHaveLength(0);
  });
});

describe('a tenant that fails', () => {
  it.each([
    ['500', { status: 500 }, 'answered 500'],
    ['404', { status: 404 }, 'answered 404'],
    ['slowly, beyond the timeout', { status: 200, delayMs: 1500 }, 'no answer within 1000 ms'],
  ])(
    'answering %s: suspect, then unavailable after 3 failures with one unavailable call, rechecked as configured',
    async (_, answer, reason) => {
      const tenant = await rig.liveTenant();
      rig.answers.set(tenant.name, answer);

      await rig.probeNext(tenant.name);
      expect(await rig.watched(tenant.name)).toMatchObject({ state: 'suspect', consecutiveFailures: 1, lastError: reason });
      const suspectAt = rig.clock.now().getTime();
      expect((await rig.nextProbeAt(tenant.name)).getTime()).toBe(suspectAt + TEST_CADENCE.recheckSeconds * SECOND);

      await rig.probeNext(tenant.name);
      expect(await rig.watched(tenant.name)).toMatchObject({ state: 'suspect', consecutiveFailures: 2 });
      await rig.probeNext(tenant.name);
      const down = await rig.watched(tenant.name);
      expect(down).toMatchObject({ state: 'unavailable', consecutiveFailures: 3, lastError: reason });
      expect(down.outageId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await rig.nextProbeAt(tenant.name)).getTime()).toBe(
        rig.clock.now().getTime() + TEST_CADENCE.unavailableRecheckSeconds * SECOND,
      );

      const [call] = await awaitUnavailableCalls(tenant.name, 1);
      expect(call?.method).toBe('POST');
      expect(call?.body).toEqual({ tenantName: tenant.name });
      expect(call?.headers['api-key']).toBe(rig.apiKey);
      expect(call?.headers['idempotency-key']).toBe(down.outageId);

      // Still down: rechecked, but no second call for the same outage.
      await rig.probeNext(tenant.name);
      await rig.probeNext(tenant.name);
      expect(await rig.watched(tenant.name)).toMatchObject({ state: 'unavailable', consecutiveFailures: 5, outageId: down.outageId });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(rig.unavailableCalls(tenant.name)).toHaveLength(1);

      expect(await changesOf(tenant.name)).toEqual(['unknown→suspect', 'suspect→unavailable']);
      const [event] = await eventsOf(tenant.id, 'tenant.availability.unhealthy');
      expect(event?.data.tenant).toMatchObject({ id: tenant.id, name: tenant.name, status: 'created_as_active' });
      expect(event?.data.health).toMatchObject({ state: 'unavailable', outageId: down.outageId, reason });
      const report = (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}/health`)).body.data;
      expect(report.recentProbes).toHaveLength(5);
      expect(report.recentProbes[0]).toMatchObject({ ok: false, error: reason, state: 'unavailable' });
      // A slow tenant would slow every later round down by its timeout.
      rig.answers.delete(tenant.name);
    },
  );

  it('not listening: connection refused is an outage like any other', async () => {
    const port = await freePort();
    const patched = await rig.landlord.admin.post('/v1/products', {
      name: `closed-${port}`,
      displayName: 'Closed port',
      webhooks: {
        creation: `${rig.backend.url}/api/integration/{name}/creation`,
        unavailable: `${rig.backend.url}/api/integration/{name}/unavailable`,
      },
      healthCheck: { url: `http://127.0.0.1:${port}/api/integration/{name}/health-status`, ...TEST_CADENCE, failureThreshold: 2 },
      provisioning: { mode: 'response' },
    });
    expect(patched.status).toBe(201);
    const tenant = await rig.liveTenant('closed', `closed-${port}`);
    await rig.probeNext(tenant.name);
    expect(await rig.watched(tenant.name)).toMatchObject({ state: 'suspect', lastError: 'connection refused', lastStatus: null });
    await rig.probeNext(tenant.name);
    expect(await rig.watched(tenant.name)).toMatchObject({ state: 'unavailable', consecutiveFailures: 2 });
    await awaitUnavailableCalls(tenant.name, 1);
  });
});

describe('recovery and flapping', () => {
  it('a flapping tenant: blips recover without a call, each outage gets exactly one call and one recovery', async () => {
    const tenant = await rig.liveTenant('flap');
    // F F S | F F F F S | F F F S  (threshold 3)
    const script = [500, 500, 200, 500, 500, 500, 500, 200, 500, 500, 500, 200];
    const states: string[] = [];
    for (const status of script) {
      rig.answers.set(tenant.name, { status });
      await rig.probeNext(tenant.name);
      states.push((await rig.watched(tenant.name)).state);
    }
    expect(states).toEqual([
      'suspect',
      'suspect',
      'healthy',
      'suspect',
      'suspect',
      'unavailable',
      'unavailable',
      'healthy',
      'suspect',
      'suspect',
      'unavailable',
      'healthy',
    ]);
    const calls = await awaitUnavailableCalls(tenant.name, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rig.unavailableCalls(tenant.name)).toHaveLength(2);
    expect(new Set(calls.map((call) => call.headers['idempotency-key'])).size).toBe(2);

    expect(await changesOf(tenant.name)).toEqual([
      'unknown→suspect',
      'suspect→healthy',
      'healthy→suspect',
      'suspect→unavailable',
      'unavailable→healthy',
      'healthy→suspect',
      'suspect→unavailable',
      'unavailable→healthy',
    ]);
    const unhealthy = await eventsOf(tenant.id, 'tenant.availability.unhealthy');
    const healthy = await eventsOf(tenant.id, 'tenant.availability.healthy');
    expect(unhealthy).toHaveLength(2);
    expect(healthy).toHaveLength(2);
    // Each recovery names the outage it ended, the one its unavailable call carried.
    expect(healthy.map((event) => event.data.outage.id)).toEqual(calls.map((call) => call.headers['idempotency-key']));
    expect(healthy[0]?.data.health).toMatchObject({ state: 'healthy', outageId: null });
    const after = await rig.watched(tenant.name);
    expect(after).toMatchObject({ state: 'healthy', consecutiveFailures: 0, outageId: null, lastError: null });
  });
});

describe('live statuses start and stop the probing', () => {
  it('stops probing a deactivated tenant (health null) and starts again, as unknown, when it is active again', async () => {
    const tenant = await rig.liveTenant('cycle');
    await rig.probeNext(tenant.name);
    expect((await rig.watched(tenant.name)).state).toBe('healthy');

    expect((await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/deactivate`)).status).toBe(200);
    await eventually(async () =>
      (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}`)).body.data.status === 'inactive' ? true : undefined,
    );
    expect(await rig.health(tenant.name)).toBeNull();
    rig.clock.advance(10 * TEST_CADENCE.intervalSeconds * SECOND);
    const before = rig.healthChecks(tenant.name).length;
    await rig.round();
    expect(rig.healthChecks(tenant.name)).toHaveLength(before);

    expect((await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/activate`)).status).toBe(200);
    await eventually(async () =>
      (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}`)).body.data.status === 'active' ? true : undefined,
    );
    expect(await rig.watched(tenant.name)).toMatchObject({ state: 'unknown', consecutiveFailures: 0 });
    await rig.probeNext(tenant.name);
    expect(rig.healthChecks(tenant.name)).toHaveLength(before + 1);
    expect((await rig.watched(tenant.name)).state).toBe('healthy');
  });

  it('never changes the lifecycle status, whatever the health', async () => {
    const tenant = await rig.liveTenant('status');
    rig.answers.set(tenant.name, { status: 503 });
    for (let probe = 0; probe < 4; probe++) await rig.probeNext(tenant.name);
    const read = (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}`)).body.data;
    expect(read.health.state).toBe('unavailable');
    expect(read.status).toBe('created_as_active');
  });
});
