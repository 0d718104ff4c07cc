import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { TEST_ADMIN_KEY } from '../../test/helpers/landlord.ts';
import { type LandlordProcess, spawnLandlord } from '../../test/helpers/process.ts';
import { seedMeteredTenant } from './usage.test-support.ts';

let database: TestDatabase;
const started: LandlordProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const process of started) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await database?.drop();
});

const env = () => ({
  DATABASE_URL: database.url,
  LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
  LANDLORD_RATE_LIMIT: '0',
  LANDLORD_DATABASE_POOL_SIZE: '10',
  LANDLORD_WORKER_CONCURRENCY: '2',
});

const BATCH = 1000;
// A producer resends the very same body: the events' time is fixed by the first batch (a fresh time on a
// resend made every event of a batch the crash had committed a conflict, answered 200 with none accepted).
let sentAt: string | undefined;
const batch = (tenant: string, number: number) => {
  sentAt ??= new Date().toISOString();
  const timestamp = sentAt;
  return {
    product: 'metered',
    events: Array.from({ length: BATCH }, (_, i) => ({
      id: `b${number}-${i}`,
      tenant,
      feature: 'api_calls',
      quantity: (i % 7) + 1,
      timestamp,
    })),
  };
};

it('leaves every batch whole or absent after a SIGKILL mid-ingestion, with totals equal to the events stored; a resent batch counts once', async () => {
  const first = await spawnLandlord(env());
  started.push(first);
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const tenant = await seedMeteredTenant(admin);

  // Four senders keep batches in flight; the process dies once a few have been answered.
  const answered = new Set<number>();
  const sent: number[] = [];
  let next = 0;
  let killed = false;
  const sender = async () => {
    while (!killed) {
      const number = next++;
      sent.push(number);
      const answer = await admin.post('/v1/usage', batch(tenant.name, number)).catch(() => undefined);
      if (answer?.status === 200) {
        expect(answer.body.data.accepted, JSON.stringify(answer.body.data.events[0])).toBe(BATCH);
        answered.add(number);
      }
      if (answered.size >= 3 && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
  await first.exited;
  const unanswered = sent.filter((number) => !answered.has(number));
  expect(unanswered.length).toBeGreaterThan(0);

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const counts = async () => {
      const perBatch = await client.query<{ batch: string; events: number }>(
        `select split_part(producer_id, '-', 1) as batch, count(*)::int as events from usage_events group by 1`,
      );
      const sums = await client.query<{ events: string; total: string; counted: string; counted_events: string }>(
        `select (select count(*) from usage_events) as events, (select coalesce(sum(quantity), 0) from usage_events) as total,
          (select coalesce(sum(quantity), 0) from usage_totals) as counted, (select coalesce(sum(events), 0) from usage_totals) as counted_events`,
      );
      return { perBatch: perBatch.rows, ...sums.rows[0]! };
    };
    const afterCrash = await counts();
    for (const row of afterCrash.perBatch) expect(row.events, `batch ${row.batch}`).toBe(BATCH);
    for (const number of answered) expect(afterCrash.perBatch.map((row) => row.batch)).toContain(`b${number}`);
    expect(afterCrash.counted).toBe(afterCrash.total);
    expect(afterCrash.counted_events).toBe(afterCrash.events);

    // The producer resends what got no answer: each is accepted or a duplicate, and counted once.
    const second = await spawnLandlord(env());
    started.push(second);
    const again = apiClient(second.url, TEST_ADMIN_KEY);
    for (const number of unanswered) {
      const answer = await again.post('/v1/usage', batch(tenant.name, number));
      expect(answer.status).toBe(200);
      expect(answer.body.data.accepted + answer.body.data.duplicates).toBe(BATCH);
    }
    const resent = await counts();
    expect(resent.perBatch).toHaveLength(sent.length);
    expect(Number(resent.events)).toBe(sent.length * BATCH);
    expect(resent.counted).toBe(resent.total);
    expect(resent.counted_events).toBe(resent.events);
    second.child.kill('SIGKILL');
  } finally {
    await client.end();
  }
}, 120_000);
