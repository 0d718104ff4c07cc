import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { enqueueJob } from './enqueue.ts';
import { collectJobQueues, pruneCallAttemptsTask, pruneIdempotencyKeys } from './maintenance.jobs.ts';

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

it('forgets the progress of backend calls finished more than a week ago and keeps newer ones', async () => {
  const { db, clock } = landlord.node.services;
  const now = clock.now().getTime();
  const [old, recent] = ['01a24ea8-0000-7000-8000-000000000001', '01a24ea8-0000-7000-8000-000000000002'];
  await db
    .insertInto('backend_call_attempts')
    .values([
      { step_id: old, kind: 'creation', finished_attempt: 3, finished_at: new Date(now - 8 * 24 * 3600_000) },
      { step_id: recent, kind: 'creation', finished_attempt: 1, finished_at: new Date(now - 6 * 24 * 3600_000) },
    ])
    .execute();
  await pruneCallAttemptsTask(db, clock)({}, {} as never);
  const rows = await db.selectFrom('backend_call_attempts').select('step_id').where('step_id', 'in', [old, recent]).execute();
  expect(rows.map((row) => row.step_id)).toEqual([recent]);
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
