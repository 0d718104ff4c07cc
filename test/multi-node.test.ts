import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from './helpers/backend-simulator.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { startTestLandlord, type TestLandlord } from './helpers/landlord.ts';
import { ROSAAS, tenantOf, wireProduct } from './helpers/rosaas.ts';

let database: TestDatabase;
let backend: BackendSimulator;
let nodeA: TestLandlord;
let nodeB: TestLandlord;

beforeAll(async () => {
  database = await createTestDatabase();
  backend = await startBackendSimulator();
  nodeA = await startTestLandlord({ database });
  nodeB = await startTestLandlord({ database });
});
afterAll(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await backend?.close();
  await database?.drop();
});

it('shares the work of two nodes on one database without making a call twice or applying a transition twice', async () => {
  const wired = await wireProduct(nodeA, backend, { autoSendCreation: true });
  // Half the answers are slow, so both nodes have calls in flight at once; every third fails once.
  const seen = new Map<string, number>();
  backend.behave((request) => {
    const name = tenantOf(request.path);
    const attempt = (seen.get(name) ?? 0) + 1;
    seen.set(name, attempt);
    if (attempt === 1 && name.endsWith('0')) return { status: 503 };
    return {
      status: 200,
      delayMs: name.length % 2 ? 30 : 0,
      after: async () => {
        await wired.backend.post(`${ROSAAS}/tenants/${name}/created`, {});
      },
    };
  });

  const names = Array.from({ length: 120 }, (_, index) => `shared-${index}`);
  await Promise.all(
    names.map((name, index) =>
      (index % 2 ? nodeA : nodeB).admin.post('/v1/tenants', { product: wired.product.name, name, displayName: name }),
    ),
  );
  await eventually(
    async () => {
      const page = await nodeA.admin.get(`/v1/tenants?product=${wired.product.name}&status=created_as_active&limit=500`);
      return page.body.data.length === names.length ? true : undefined;
    },
    30_000,
    'every tenant created_as_active',
  );

  // One request per (step, attempt): no attempt was made by both nodes.
  const attempts = backend.requests.map((request) => `${request.headers['idempotency-key']}#${request.headers['x-landlord-attempt']}`);
  expect(new Set(attempts).size).toBe(attempts.length);
  expect(backend.requests.length).toBe(names.length + names.filter((name) => name.endsWith('0')).length);

  // Each tenant went through each transition exactly once.
  const { rows } = await sql<{ tenant_id: string; from_status: string; to_status: string; count: number }>`
    select tenant_id, from_status, to_status, count(*)::int as count from tenant_timeline
    where kind = 'transition' group by tenant_id, from_status, to_status having count(*) > 1`.execute(nodeA.node.services.db);
  expect(rows).toEqual([]);

  // Both nodes did part of the work.
  const { rows: workers } = await sql<{ count: number }>`
    select count(distinct detail->>'node')::int as count from tenant_timeline where kind = 'call'`.execute(nodeA.node.services.db);
  expect(workers[0]?.count).toBe(2);
}, 60_000);
