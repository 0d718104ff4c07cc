import type { TaskList } from 'graphile-worker';
import type pg from 'pg';
import { healthTasks } from './health/health.node.ts';
import { expiredIdentityRecordsSweep } from './identity/expired-records.ts';
import { collectJobQueues, maintenanceSchedules, pruneIdempotencyKeys } from './jobs/maintenance.jobs.ts';
import type { Sweep } from './jobs/sweeper.ts';
import type { Schedule } from './jobs/worker.ts';
import type { Services } from './routes.ts';
import { callBackendTask } from './tenants/lifecycle.jobs.ts';
import { reportDeadlineSweep } from './tenants/report-deadlines.ts';
import { CALL_TASK } from './tenants/transitions.ts';
import { usageLimitSweep } from './usage/limits.ts';

/** Every background task and schedule the features contribute, by task name. */
export function buildTasks(services: Services, pool: pg.Pool): { tasks: TaskList; schedules: Schedule[] } {
  const { db, clock, box, http, config, nodeId } = services;
  const lifecycle = { db, box, clock, http, nodeId, retryBaseMs: config.retryBaseMs };
  const health = healthTasks(services);
  return {
    tasks: {
      ...health.tasks,
      'landlord.prune_idempotency_keys': pruneIdempotencyKeys(db, clock),
      'landlord.collect_job_queues': collectJobQueues(pool),
      [CALL_TASK]: callBackendTask(lifecycle),
    },
    schedules: [...maintenanceSchedules, ...health.schedules],
  };
}

/** Every time-driven sweep the features contribute (each runs on every worker node; see `jobs/sweeper.ts`). */
export function buildSweeps(services: Services): Sweep[] {
  const { db, clock, config } = services;
  return [
    reportDeadlineSweep({ db, clock, intervalMs: config.workerPollMs }),
    // identity
    expiredIdentityRecordsSweep({ db, clock }),
    // usage
    usageLimitSweep({ db, clock }),
  ];
}
