import type { TaskList } from 'graphile-worker';
import type pg from 'pg';
import { callBackendTask } from './backend-calls/call-backend.jobs.ts';
import { CALL_TASK } from './backend-calls/call-kind.ts';
import { callKinds } from './backend-calls/call-kinds.ts';
import { reportDeadlineSweep } from './backend-calls/report-deadlines.ts';
// calls and billing
import { billInvoiceSweep } from './billing/bill-invoices.sweep.ts';
import { billingSweepMs } from './billing/billing-due.ts';
import { recurringBillSweep } from './billing/recurring-bills.sweep.ts';
import { renewalDeps, renewalsSweep } from './commerce/renewals.ts';
import { expiredConsoleLinksSweep } from './console/expired-links.ts';
import { healthTasks } from './health/health.node.ts';
import { expiredIdentityRecordsSweep } from './identity/expired-records.ts';
import { collectJobQueues, maintenanceSchedules, pruneCallAttemptsTask, pruneIdempotencyKeys } from './jobs/maintenance.jobs.ts';
import type { Sweep } from './jobs/sweeper.ts';
import type { Schedule } from './jobs/worker.ts';
import { collectionsSweep } from './payments/collections.sweep.ts';
import { planChangeSweep } from './plan-changes/plan-changes.sweep.ts';
import type { Services } from './routes.ts';
import { usageLimitSweep } from './usage/limits.ts';
import { usageOverageSweep } from './usage/overage.ts';

/** Every background task and schedule the features contribute, by task name. */
export function buildTasks(services: Services, pool: pg.Pool): { tasks: TaskList; schedules: Schedule[] } {
  const { db, clock, box, http, config, nodeId } = services;
  const calls = { db, box, clock, http, nodeId, retryBaseMs: config.retryBaseMs, kinds: callKinds() };
  const health = healthTasks(services);
  return {
    tasks: {
      ...health.tasks,
      'landlord.prune_idempotency_keys': pruneIdempotencyKeys(db, clock),
      'landlord.collect_job_queues': collectJobQueues(pool),
      'landlord.prune_call_attempts': pruneCallAttemptsTask(db, clock),
      [CALL_TASK]: callBackendTask(calls),
    },
    schedules: [...maintenanceSchedules, ...health.schedules],
  };
}

/** Every time-driven sweep the features contribute (each runs on every worker node; see `jobs/sweeper.ts`). */
export function buildSweeps(services: Services): Sweep[] {
  const { db, clock, config } = services;
  return [
    reportDeadlineSweep({ db, clock, intervalMs: config.workerPollMs, kinds: callKinds().values() }),
    // identity
    expiredIdentityRecordsSweep({ db, clock }),
    // commerce
    renewalsSweep(renewalDeps(services)),
    // calls and billing: boundaries and executions need no finer time than a second (a clock advance runs them at once)
    planChangeSweep({ db, clock, intervalMs: billingSweepMs(config.workerPollMs) }),
    recurringBillSweep({ db, clock, intervalMs: billingSweepMs(config.workerPollMs) }),
    billInvoiceSweep({ db, clock, intervalMs: billingSweepMs(config.workerPollMs) }),
    collectionsSweep({ db, clock, intervalMs: billingSweepMs(config.workerPollMs) }),
    // usage
    usageLimitSweep({ db, clock }),
    usageOverageSweep({ db, clock }),
    // console
    expiredConsoleLinksSweep({ db, clock }),
  ];
}
