import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { type HealthRig, startHealthRig, TEST_CADENCE } from './health.test-support.ts';
import { runProbeRound } from './prober.ts';
import { claimDueProbes } from './probes.repo.ts';

const TENANTS = 240;
let rig: HealthRig;
let names: string[];

beforeAll(async () => {
  // A healthy answer must never look like an outage here: under a loaded machine (the suite runs three files at once
  // on two cores) a loopback probe can take longer than the rig's usual 1 s timeout, and a tenant that timed out in
  // the first round is already unavailable, not due, in the third. The lease (timeout + 5 s) stays under the interval.
  rig = await startHealthRig({ cadence: { failureThreshold: 2, timeoutSeconds: 4 } });
  // Seeded as live tenants with health rows, all due now, as after a restart.
  const { db } = rig.landlord.node.services;
  const now = rig.clock.now();
  await sql`
    insert into tenants (id, product_id, name, display_name, status, last_stable_status, created_at, updated_at)
    select gen_random_uuid(), ${rig.product.id}, 'mn-' || i, 'Tenant ' || i, 'active', 'active', ${now}, ${now}
    from generate_series(1, ${TENANTS}::int) i`.execute(db);
  await sql`
    insert into tenant_health (tenant_id, product_id, state_since, next_probe_at)
    select id, product_id, ${now}, ${now} from tenants where product_id = ${rig.product.id}`.execute(db);
  names = Array.from({ length: TENANTS }, (_, index) => `mn-${index + 1}`);
});
afterAll(async () => {
  await rig?.close();
});

/** A round run by two nodes at the same time, as two processes on one database would. */
async function roundOnBothNodes() {
  const [a, b] = await Promise.all([
    runProbeRound({ ...rig.deps('node-a'), concurrency: 8 }),
    runProbeRound({ ...rig.deps('node-b'), concurrency: 8 }),
  ]);
  return { a, b };
}

const checksPerTenant = () => {
  const counts = new Map<string, number>();
  for (const request of rig.backend.requests) {
    const [, , , name, event] = request.path.split('/');
    if (event === 'health-status' && name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};

it('two nodes share each round without probing a tenant twice, and call the backend once per outage', async () => {
  const first = await roundOnBothNodes();
  expect(first.a.probed + first.b.probed).toBe(TENANTS);
  expect(first.a.probed).toBeGreaterThan(0);
  expect(first.b.probed).toBeGreaterThan(0);
  expect([...checksPerTenant().values()].every((count) => count === 1)).toBe(true);
  expect(checksPerTenant().size).toBe(TENANTS);

  // Everyone goes down: suspect after one round, unavailable after the recheck.
  for (const name of names) rig.answers.set(name, { status: 503 });
  rig.clock.advance(TEST_CADENCE.intervalSeconds * 1000);
  const second = await roundOnBothNodes();
  expect(second.a.failed + second.b.failed).toBe(TENANTS);
  rig.clock.advance(TEST_CADENCE.recheckSeconds * 1000);
  const third = await roundOnBothNodes();
  expect(third.a.applied + third.b.applied).toBe(TENANTS);
  expect([...checksPerTenant().values()].every((count) => count === 3)).toBe(true);

  const calls = await eventually(
    async () => {
      const made = rig.backend.requests.filter((request) => request.path.endsWith('/unavailable'));
      return made.length >= TENANTS ? made : undefined;
    },
    30_000,
    'an unavailable call for every tenant',
  );
  // Still down at the next recheck: no second call for the same outage.
  rig.clock.advance(TEST_CADENCE.unavailableRecheckSeconds * 1000);
  await roundOnBothNodes();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = rig.backend.requests.filter((request) => request.path.endsWith('/unavailable'));
  expect(after).toHaveLength(TENANTS);
  expect(new Set(calls.map((call) => call.path)).size).toBe(TENANTS);
  expect(new Set(calls.map((call) => call.headers['idempotency-key'])).size).toBe(TENANTS);

  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from events where type = 'tenant.availability.unhealthy' and product_id = ${rig.product.id}`.execute(
    rig.landlord.node.services.db,
  );
  expect(rows[0]?.count).toBe(TENANTS);
  for (const name of names) rig.answers.delete(name);
}, 60_000);

it('a node that dies mid-round hands its tenants over once their leases run out, within one interval', async () => {
  const { db } = rig.landlord.node.services;
  // Everything due now; the dying node leases a share of it and is never heard from again.
  rig.clock.advance(TEST_CADENCE.intervalSeconds * 1000);
  const taken = await claimDueProbes(db, { nodeId: 'node-dead', now: rig.clock.now(), limit: 50 });
  expect(taken).toHaveLength(50);
  const before = checksPerTenant();

  const survivor = await runProbeRound(rig.deps('node-b'));
  expect(survivor.probed).toBe(TENANTS - 50);
  const whileLeased = checksPerTenant();
  for (const probe of taken) expect(whileLeased.get(probe.name)).toBe(before.get(probe.name));
  const leaseMs = Math.max(...taken.map((probe) => probe.leaseUntil.getTime())) - rig.clock.now().getTime();
  expect(leaseMs).toBeLessThan(TEST_CADENCE.intervalSeconds * 1000);

  rig.clock.advance(leaseMs + 1);
  await runProbeRound(rig.deps('node-b'));
  const handedOver = checksPerTenant();
  for (const probe of taken) expect(handedOver.get(probe.name)).toBe((before.get(probe.name) ?? 0) + 1);
});

it('writes back every result of a round larger than one write-back statement before the round ends', async () => {
  const { db } = rig.landlord.node.services;
  const now = rig.clock.now();
  await sql`
    insert into tenants (id, product_id, name, display_name, status, last_stable_status, created_at, updated_at)
    select gen_random_uuid(), ${rig.product.id}, 'big-' || i, 'Tenant ' || i, 'active', 'active', ${now}, ${now}
    from generate_series(1, 300) i`.execute(db);
  await sql`
    insert into tenant_health (tenant_id, product_id, state_since, next_probe_at)
    select id, product_id, ${now}, ${now} from tenants where name like 'big-%'`.execute(db);
  // Everything is due at once; one node claims it all in one go (more than the 500 rows one statement takes).
  rig.clock.advance(TEST_CADENCE.intervalSeconds * 1000);
  const round = await runProbeRound({ ...rig.deps('node-big'), concurrency: 400 });
  expect(round.probed).toBe(TENANTS + 300);
  expect(round.applied).toBe(TENANTS + 300);
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from tenant_health where product_id = ${rig.product.id} and last_probe_at = ${rig.clock.now()}`.execute(
    db,
  );
  expect(rows[0]?.count).toBe(TENANTS + 300);
});
