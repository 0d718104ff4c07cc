import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../platform/ids.ts';
import { keepHealthHistory } from './health.jobs.ts';
import { nextSlot } from './health.rules.ts';
import { type HealthRig, startHealthRig } from './health.test-support.ts';

let rig: HealthRig;
beforeAll(async () => {
  rig = await startHealthRig();
});
afterAll(async () => {
  await rig?.close();
});

const HOUR = 3_600_000;

describe('keeping probe history', () => {
  it('deletes raw probes and hourly totals past their retention, and moves finished hours off rows nobody probes', async () => {
    const { db } = rig.landlord.node.services;
    const tenant = await rig.liveTenant('history');
    const now = rig.clock.now().getTime();
    const hist = (count: number) => [count, ...new Array(19).fill(0)];
    await db
      .insertInto('tenant_probes')
      .values([
        {
          tenant_id: tenant.id,
          at: new Date(now - 49 * HOUR),
          ok: false,
          status: 500,
          latency_ms: 3,
          error: 'answered 500',
          state: 'suspect',
        },
        {
          tenant_id: tenant.id,
          at: new Date(now - 47 * HOUR),
          ok: false,
          status: 500,
          latency_ms: 3,
          error: 'answered 500',
          state: 'suspect',
        },
      ])
      .execute();
    const row = (hoursAgo: number) => ({
      tenant_id: tenant.id,
      hour: new Date(now - (now % HOUR) - hoursAgo * HOUR),
      probes: 1,
      failures: 0,
      observed_ms: 60_000,
      down_ms: 0,
      latency_sum_ms: 4,
      latency_hist: hist(1),
    });
    await db
      .insertInto('tenant_probe_hourly')
      .values([row(36 * 24), row(3)])
      .execute();
    // A paused tenant still holds the totals of an hour that is over; the same hour is in the table already.
    await db
      .updateTable('tenant_health')
      .set({
        paused: true,
        acc_hour: row(3).hour,
        acc_probes: 2,
        acc_failures: 1,
        acc_observed_ms: 120_000,
        acc_down_ms: 60_000,
        acc_latency_sum_ms: 5,
        acc_latency_hist: hist(1),
      })
      .where('tenant_id', '=', tenant.id)
      .execute();

    await keepHealthHistory(db, rig.clock, { probeHours: 48, hourlyDays: 35 })({}, {} as never);

    const probes = await db.selectFrom('tenant_probes').select('at').where('tenant_id', '=', tenant.id).execute();
    expect(probes.map((probe) => probe.at.getTime())).toEqual([now - 47 * HOUR]);
    const hourly = await db.selectFrom('tenant_probe_hourly').selectAll().where('tenant_id', '=', tenant.id).execute();
    expect(hourly).toEqual([
      expect.objectContaining({
        hour: row(3).hour,
        probes: 3,
        failures: 1,
        observed_ms: 180_000,
        down_ms: 60_000,
        latency_sum_ms: 9,
        latency_hist: hist(2),
      }),
    ]);
    const health = await db.selectFrom('tenant_health').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(health).toMatchObject({ acc_hour: null, acc_probes: 0, acc_latency_hist: [] });

    // The report counts the moved hour once.
    const report = (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}/health`)).body.data;
    expect(report.uptime['24h']).toMatchObject({ probes: 3, failures: 1 });
  });
});

describe('the SQL slot function', () => {
  it('agrees with nextSlot, which the prober uses', async () => {
    const { db } = rig.landlord.node.services;
    const cases = fc.sample(fc.tuple(fc.integer({ min: 0, max: 2 ** 42 }), fc.integer({ min: 1, max: 86_400 })), { numRuns: 200, seed: 3 });
    const ids = cases.map(() => newId());
    const { rows } = await sql<{ at: Date }>`
      select landlord_health_slot(c.id, c.now_ms, c.interval_ms) as at
      from unnest(${ids}::uuid[], ${cases.map(([now]) => now)}::bigint[], ${cases.map(([, seconds]) => seconds * 1000)}::bigint[])
        with ordinality as c(id, now_ms, interval_ms, n) order by c.n`.execute(db);
    expect(rows.map((row) => row.at.getTime())).toEqual(
      cases.map(([now, seconds], index) => nextSlot(now, ids[index] as string, seconds * 1000)),
    );
  });
});
