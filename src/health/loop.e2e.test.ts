import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { phaseOf } from './health.rules.ts';

const TENANTS = 40;
// Small pools: two nodes share the machine's PostgreSQL with other test files.
const env = { LANDLORD_EGRESS_ALLOW: '127.0.0.1', LANDLORD_HEALTH_TICK_MS: '100', LANDLORD_WORKER_CONCURRENCY: '4' };
let database: TestDatabase;
let backend: BackendSimulator;
let nodeA: TestLandlord;
let nodeB: TestLandlord;
let healthStatus = 200;

beforeAll(async () => {
  database = await createTestDatabase();
  backend = await startBackendSimulator();
  backend.behave((request) => (request.path.endsWith('/health-status') ? { status: healthStatus } : { status: 200 }));
  nodeA = await startTestLandlord({ database, env });
  nodeB = await startTestLandlord({ database, env });
});
afterAll(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await backend?.close();
  await database?.drop();
});

/** Arrival times (ms) of each tenant's health checks. */
function checkTimes(): Map<string, number[]> {
  const times = new Map<string, number[]>();
  for (const request of backend.requests) {
    const [, , , name, event] = request.path.split('/');
    if (event !== 'health-status' || !name) continue;
    times.set(name, [...(times.get(name) ?? []), request.at]);
  }
  return times;
}

it('two running nodes probe every tenant once per interval, and report each outage once', async () => {
  const events = ['creation', 'unavailable'];
  const product = await nodeA.admin.post('/v1/products', {
    name: 'looped',
    displayName: 'Looped',
    webhooks: Object.fromEntries(events.map((event) => [event, `${backend.url}/api/integration/{name}/${event}`])),
    healthCheck: {
      url: `${backend.url}/api/integration/{name}/health-status`,
      intervalSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 2,
      recheckSeconds: 1,
      unavailableRecheckSeconds: 1,
    },
    provisioning: { mode: 'response' },
  });
  expect(product.status).toBe(201);
  const names = Array.from({ length: TENANTS }, (_, index) => `loop-${index}`);
  await Promise.all(
    names.map((name, index) => (index % 2 ? nodeA : nodeB).admin.post('/v1/tenants', { product: 'looped', name, displayName: name })),
  );
  const { db } = nodeA.node.services;
  const countIn = async (state: string) => {
    const { rows } = await sql<{
      count: number;
    }>`select count(*)::int as count from tenant_health where state = ${state} and watched`.execute(db);
    return rows[0]?.count ?? 0;
  };
  await eventually(async () => ((await countIn('healthy')) === TENANTS ? true : undefined), 20_000, 'every tenant healthy');
  await new Promise((resolve) => setTimeout(resolve, 3000));

  // Never two probes of one tenant in one round: each probe falls in the period of its own slot
  // (a late probe is still in its period; the next one returns to the slot after it).
  const ids = new Map<string, string>();
  for (const tenant of (await nodeA.admin.get('/v1/tenants?product=looped&limit=500')).body.data) ids.set(tenant.name, tenant.id);
  for (const [name, times] of checkTimes()) {
    const phase = phaseOf(ids.get(name) as string) % 1000;
    const rounds = times.map((at) => Math.floor((at - phase) / 1000));
    expect(new Set(rounds).size, `${name} probed twice in one round (first probes at ${times.slice(0, 6).join(', ')})`).toBe(rounds.length);
  }
  expect(checkTimes().size).toBe(TENANTS);

  healthStatus = 500;
  await eventually(async () => ((await countIn('unavailable')) === TENANTS ? true : undefined), 20_000, 'every tenant unavailable');
  await eventually(
    async () => (backend.requests.filter((request) => request.path.endsWith('/unavailable')).length >= TENANTS ? true : undefined),
    20_000,
  );
  // Still down for a few more rechecks: no outage is reported twice.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const calls = backend.requests.filter((request) => request.path.endsWith('/unavailable'));
  expect(calls).toHaveLength(TENANTS);
  expect(new Set(calls.map((call) => call.path)).size).toBe(TENANTS);

  healthStatus = 200;
  await eventually(async () => ((await countIn('healthy')) === TENANTS ? true : undefined), 20_000, 'every tenant healthy again');
  const { rows } = await sql<{ type: string; count: number; nodes: number }>`
    select e.type, count(*)::int as count from events e where e.type like 'tenant.availability.%' group by e.type order by e.type`.execute(
    db,
  );
  expect(rows).toEqual([
    { type: 'tenant.availability.healthy', count: TENANTS },
    { type: 'tenant.availability.unhealthy', count: TENANTS },
  ]);
  // Both nodes did part of the probing.
  const { rows: nodes } = await sql<{ count: number }>`
    select count(distinct detail->>'node')::int as count from tenant_timeline where kind = 'health'`.execute(db);
  expect(nodes[0]?.count).toBe(2);
}, 90_000);
