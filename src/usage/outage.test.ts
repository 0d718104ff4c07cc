import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { apiClient } from '../../test/helpers/http.ts';
import { TEST_ADMIN_KEY } from '../../test/helpers/landlord.ts';
import { type LandlordProcess, spawnLandlord } from '../../test/helpers/process.ts';
import { seedMeteredTenant } from './usage.test-support.ts';

// PostgreSQL refusing new connections ("too many connections for role", SQLSTATE 53300) while batches
// arrive: each batch is answered 200 with all of it accepted, or 503 with nothing stored — never a
// 200 reporting an outcome that did not happen. The role is not a superuser, so its limit holds.
const suffix = `${process.pid}_${Date.now()}`;
const role = `usage_probe_${suffix}`;
const dbName = `usage_probe_${suffix}`;
const admin = () => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
let landlord: LandlordProcess | undefined;

afterAll(async () => {
  if (landlord && landlord.child.exitCode === null) landlord.child.kill('SIGKILL');
  await landlord?.exited;
  const c = admin();
  await c.connect();
  await c.query(`drop database if exists ${dbName} with (force)`);
  await c.query(`drop role if exists ${role}`);
  await c.end();
});

it('answers 503 and stores nothing for a batch whose connection PostgreSQL refuses; every 200 is a batch stored whole', async () => {
  const c = admin();
  await c.connect();
  await c.query(`create role ${role} login`);
  await c.query(`create database ${dbName} owner ${role}`);
  const url = `postgres://${role}@127.0.0.1:5432/${dbName}`;
  landlord = await spawnLandlord({
    DATABASE_URL: url,
    LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
    LANDLORD_RATE_LIMIT: '0',
    // Room for every batch at once: a batch that finds no connection is refused by PostgreSQL, not queued by the pool.
    LANDLORD_DATABASE_POOL_SIZE: '20',
    LANDLORD_WORKER_CONCURRENCY: '1',
  });
  const api = apiClient(landlord.url, TEST_ADMIN_KEY);
  await seedMeteredTenant(api);
  // The pool's idle connections are closed and the role is left room for two more. While the test holds a lock that
  // every batch's write waits for, each batch keeps its connection: the batches must open new ones, and all but a
  // few are refused however fast the machine is.
  await c.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and state = 'idle' and application_name = 'landlord'`,
    [role],
  );
  const used = await c.query(`select count(*)::int as n from pg_stat_activity where usename = $1`, [role]);
  await c.query(`alter role ${role} connection limit ${used.rows[0].n + 2}`);
  const holder = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
  await holder.connect();
  await holder.query('begin');
  await holder.query('lock table usage_totals in share row exclusive mode');
  const answers: { batch: number; status: number; accepted?: number; code?: string }[] = [];
  const batch = (b: number) => ({
    product: 'metered',
    events: Array.from({ length: 200 }, (_, i) => ({
      id: `p${b}-${i}`,
      tenant: 'acme',
      feature: 'api_calls',
      quantity: 1,
      timestamp: new Date().toISOString(),
    })),
  });
  try {
    const sent = Array.from({ length: 12 }, async (_, b) => {
      const answer = await api.post('/v1/usage', batch(b));
      answers.push({
        batch: b,
        status: answer.status,
        accepted: answer.body?.data?.accepted,
        code: answer.body?.metadata?.errors?.[0]?.code,
      });
    });
    // Every batch is either answered or waiting on the lock with its connection; then the lock goes.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const waiting = await c.query(`select count(*)::int as n from pg_stat_activity where usename = $1 and wait_event_type = 'Lock'`, [
        role,
      ]);
      if (answers.length + waiting.rows[0].n >= 12 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await holder.query('commit');
    await Promise.all(sent);
  } finally {
    await holder.end();
    await c.query(`alter role ${role} connection limit -1`);
  }
  const refused = answers.filter((answer) => answer.status !== 200);
  expect(refused.length, JSON.stringify(answers)).toBeGreaterThan(0);
  for (const answer of refused) expect(answer).toMatchObject({ status: 503, code: 'server.unavailable' });
  const served = answers.filter((answer) => answer.status === 200);
  for (const answer of served) expect(answer.accepted, JSON.stringify(answer)).toBe(200);
  const reader = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
  await reader.connect();
  try {
    const stored = await reader.query<{ batch: string; events: number }>(
      `select split_part(producer_id, '-', 1) as batch, count(*)::int as events from usage_events group by 1`,
    );
    const expected = served.map((answer) => ({ batch: `p${answer.batch}`, events: 200 }));
    const byBatch = (a: { batch: string }, b: { batch: string }) => a.batch.localeCompare(b.batch);
    expect(stored.rows.sort(byBatch)).toEqual(expected.sort(byBatch));
    const totals = await reader.query<{ total: string }>('select coalesce(sum(quantity), 0)::text as total from usage_totals');
    expect(Number(totals.rows[0]?.total)).toBe(served.length * 200);
  } finally {
    await reader.end();
  }
  // Once connections are free again, a refused batch resent is accepted whole.
  for (const answer of refused) expect((await api.post('/v1/usage', batch(answer.batch))).body.data.accepted).toBe(200);
  await c.end();
}, 120_000);
