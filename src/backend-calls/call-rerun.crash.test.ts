import pg from 'pg';
import { expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { useCrashHarness } from '../../test/helpers/crash-harness.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { TEST_ADMIN_KEY } from '../../test/helpers/landlord.ts';
import { spawnLandlord } from '../../test/helpers/process.ts';
import { liveGroupOnMarketplace } from '../marketplaces/marketplaces.test-support.ts';

// A job whose attempt was recorded (its next attempt enqueued) but whose completion never reached
// the database — the process died in between — is handed back to the queue and runs again. That
// re-run must not make the call a second time. The kill is placed exactly there: the test holds a
// row lock on the job, so graphile-worker's completion waits on it, and SIGKILLs the process while
// a statement of it waits.

const crash = useCrashHarness();
const { started, env } = crash;

it('a call attempt whose job completion was lost in a SIGKILL is not made again by the next process', async () => {
  let appUp = false;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let answered = 0;
  crash.backend.behave((request) => {
    if (request.method !== 'DELETE') return { status: 200, body: {} };
    if (!appUp) return { status: 503, before: () => held };
    answered++;
    return { status: 200, body: { success: true } };
  });

  const first = await spawnLandlord(env());
  started.push(first);
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const { groups, group } = await liveGroupOnMarketplace(admin, crash.backend.url, {
    name: 'rerun-crash',
    displayName: 'A call re-run after a crash',
  });
  expect((await admin.delete(`${groups}/${group.uid}`)).status).toBe(200);
  const groupPath = `/maestrano/account/groups/${group.uid}/maestrano-dev`;
  // The first attempt is at the app, held open: its job is locked by the first process.
  await crash.backend.waitFor((request) => request.method === 'DELETE' && request.path === groupPath, 30_000);

  // `spy` holds the lock, `watch` looks around.
  const spy = new pg.Client({ connectionString: crash.database.url });
  const watch = new pg.Client({ connectionString: crash.database.url });
  for (const client of [spy, watch]) {
    // The harness drops the database with (force) at the end.
    client.on('error', () => {});
    await client.connect();
  }
  try {
    const job = await spy.query<{ id: string }>(
      `select jobs.id from graphile_worker._private_jobs as jobs join graphile_worker._private_tasks as tasks on tasks.id = jobs.task_id
        where tasks.identifier = 'tenant.call' and jobs.payload->>'event' = 'marketplace.group_deleted' and jobs.locked_at is not null`,
    );
    expect(job.rows).toHaveLength(1);
    const [{ id }] = job.rows as [{ id: string }];
    // The call's job, id and attempt, as the queue holds them.
    const calls = async () =>
      (
        await watch.query<{ id: string; attempt: number }>(
          `select jobs.id, (jobs.payload->>'attempt')::int as attempt from graphile_worker._private_jobs as jobs
            where jobs.payload->>'event' = 'marketplace.group_deleted' order by jobs.id`,
        )
      ).rows;
    await spy.query('begin');
    await spy.query('select 1 from graphile_worker._private_jobs where id = $1 for update', [id]);
    const { rows } = await spy.query<{ pid: number }>('select pg_backend_pid() as pid');
    // The app refuses the held attempt: the process records it and schedules the next one, then graphile-worker
    // completes the job — a statement that waits on the test's lock.
    release();
    await eventually(async () => {
      const waiting = await watch.query('select 1 from pg_stat_activity where $1::int = any(pg_blocking_pids(pid))', [rows[0]?.pid]);
      return waiting.rowCount ? true : undefined;
    }, 30_000);
    // The moment this test is about: attempt 2 is enqueued, attempt 1's job is not completed yet.
    expect(await calls()).toEqual([
      { id, attempt: 1 },
      { id: expect.any(String), attempt: 2 },
    ]);
    first.child.kill('SIGKILL');
    await first.exited;
    // PostgreSQL notices a vanished client only when it next talks to it: the waiting statement would go
    // on once the lock is released. Ending the dead process's sessions makes the kill what it is in
    // production when it lands before the statement was sent.
    await watch.query('select pg_terminate_backend(pid) from pg_stat_activity where $1::int = any(pg_blocking_pids(pid))', [rows[0]?.pid]);
  } finally {
    await spy.query('rollback').catch(() => {});
    await spy.end();
  }

  appUp = true;
  const second = await spawnLandlord(env());
  started.push(second);
  const after = apiClient(second.url, TEST_ADMIN_KEY);
  await eventually(async () => (answered ? true : undefined), 30_000, 'the notice delivered');
  // Every call job is done (a second chain of attempts would still be queued or running).
  await eventually(
    async () => {
      const jobs = await watch.query(`select 1 from graphile_worker.jobs where task_identifier = 'tenant.call'`);
      return jobs.rowCount === 0 ? true : undefined;
    },
    30_000,
    'no call job left',
  );
  const history = await after.get(`/v1/tenants/${group.tenant.name}/history?kind=call&limit=500`);
  const notices = history.body.data.filter((entry: { action: string }) => entry.action === 'marketplace.group_deleted');
  expect(notices.filter((entry: { detail: { verdict: string } }) => entry.detail.verdict === 'success')).toHaveLength(1);
  expect(answered).toBe(1);
  await watch.end();
  second.child.kill('SIGKILL');
  await second.exited;
}, 180_000);
