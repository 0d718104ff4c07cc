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
    LANDLORD_DATABASE_POOL_SIZE: '10',
    LANDLORD_WORKER_CONCURRENCY: '1',
  });
  const api = apiClient(landlord.url, TEST_ADMIN_KEY);
  await seedMeteredTenant(api);
  // The pool may already hold as many connections as the batches need, and then nothing is refused: its idle
  // ones are closed, and the role is left room for two more, so the batches must open connections and most are refused.
  await c.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and state = 'idle' and application_name = 'landlord'`,
    [role],
  );
  const used = await c.query(`select count(*)::int as n from pg_stat_activity where usename = $1`, [role]);
  await c.query(`alter role ${role} connection limit ${used.rows[0].n + 2}`);
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
    // More batches at once than the connections left: the pool must open new ones, and PostgreSQL refuses them.
    await Promise.all(
      Array.from({ length: 12 }, async (_, b) => {
        const answer = await api.post('/v1/usage', batch(b));
        answers.push({
          batch: b,
          status: answer.status,
          accepted: answer.body?.data?.accepted,
          code: answer.body?.metadata?.errors?.[0]?.code,
        });
      }),
    );
  } finally {
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
