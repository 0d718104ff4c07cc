import { makeWorkerUtils, type Task } from 'graphile-worker';
import type pg from 'pg';
import { pruneCallAttempts } from '../backend-calls/call-attempts.repo.ts';
import type { Db } from '../db/database.ts';
import { IDEMPOTENCY_TTL_MS } from '../http/idempotency.ts';
import type { Clock } from '../platform/clock.ts';
import type { Schedule } from './worker.ts';

/** Deletes idempotency records older than their 24-hour replay window. */
export function pruneIdempotencyKeys(db: Db, clock: Clock): Task {
  return async () => {
    await db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', new Date(clock.now().getTime() - IDEMPOTENCY_TTL_MS))
      .execute();
  };
}

/** Forgets the progress of backend calls whose last attempt finished more than a week ago. */
export function pruneCallAttemptsTask(db: Db, clock: Clock): Task {
  return async () => {
    await pruneCallAttempts(db, clock.now());
  };
}

/** Removes job-queue rows no job refers to any more (one per tenant that had calls). */
export function collectJobQueues(pool: pg.Pool): Task {
  return async () => {
    const utils = await makeWorkerUtils({ pgPool: pool });
    try {
      await utils.cleanup({ tasks: ['GC_JOB_QUEUES'] });
    } finally {
      await utils.release();
    }
  };
}

/** Housekeeping schedules, each run once across all nodes. */
export const maintenanceSchedules: Schedule[] = [
  {
    task: 'landlord.prune_idempotency_keys',
    match: '17 * * * *',
    identifier: 'landlord.prune_idempotency_keys',
    options: { backfillPeriod: 0 },
  },
  { task: 'landlord.collect_job_queues', match: '43 3 * * *', identifier: 'landlord.collect_job_queues', options: { backfillPeriod: 0 } },
  { task: 'landlord.prune_call_attempts', match: '29 4 * * *', identifier: 'landlord.prune_call_attempts', options: { backfillPeriod: 0 } },
];
