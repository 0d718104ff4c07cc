import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { enqueueJob } from './enqueue.ts';
import { collectJobQueues, pruneIdempotencyKeys } from './maintenance.jobs.ts';

let landlord: TestLandlord;
beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_ROLE: 'api' } });
});
afterAll(async () => {
  await landlord?.close();
});

it('prunes idempotency records older than 24 hours and keeps newer ones', async () => {
  const { db, clock } = landlord.node.services;
  const old = new Date(clock.now().getTime() - 25 * 3600_000);
  await db
    .insertInto('idempotency_keys')
    .values([
      { credential: 'c', key: 'old', request_hash: Buffer.from('x'), created_at: old },
      { credential: 'c', key: 'new', request_hash: Buffer.from('x') },
    ])
    .execute();
  await pruneIdempotencyKeys(db, clock)({}, {} as never);
  const keys = await db.selectFrom('idempotency_keys').select('key').where('credential', '=', 'c').execute();
  expect(keys.map((row) => row.key)).toEqual(['new']);
});

it('removes job queues that no job refers to', async () => {
  const { db } = landlord.node.services;
  await enqueueJob(db, 'landlord.noop', {}, { queueName: 'tenant:gone' });
  await sql`delete from graphile_worker._private_jobs`.execute(db);
  const count = async () =>
    (
      await sql<{ n: number }>`select count(*)::int as n from graphile_worker._private_job_queues where queue_name = 'tenant:gone'`.execute(
        db,
      )
    ).rows[0]?.n;
  expect(await count()).toBe(1);
  await collectJobQueues(landlord.node.database.pool)({}, {} as never);
  expect(await count()).toBe(0);
});
