import type { TaskList } from 'graphile-worker';
import type pg from 'pg';
import { collectJobQueues, maintenanceSchedules, pruneIdempotencyKeys } from './jobs/maintenance.jobs.ts';
import type { Schedule } from './jobs/worker.ts';
import type { Services } from './routes.ts';
import { callBackendTask, reportTimeoutTask } from './tenants/lifecycle.jobs.ts';
import { CALL_TASK, REPORT_TIMEOUT_TASK } from './tenants/lifecycle.service.ts';

/** Every background task and schedule the features contribute, by task name. */
export function buildTasks(services: Services, pool: pg.Pool): { tasks: TaskList; schedules: Schedule[] } {
  const { db, clock, box, http, config, nodeId } = services;
  const lifecycle = { db, box, clock, http, nodeId, retryBaseMs: config.retryBaseMs };
  return {
    tasks: {
      'landlord.prune_idempotency_keys': pruneIdempotencyKeys(db, clock),
      'landlord.collect_job_queues': collectJobQueues(pool),
      [CALL_TASK]: callBackendTask(lifecycle),
      [REPORT_TIMEOUT_TASK]: reportTimeoutTask(lifecycle),
    },
    schedules: [...maintenanceSchedules],
  };
}
