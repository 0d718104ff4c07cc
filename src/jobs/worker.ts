import { EventEmitter } from 'node:events';
import {
  type CronItem,
  parseCronItems,
  type Runner,
  run,
  runMigrations,
  type TaskList,
  type WorkerEvents,
  Logger as WorkerLogger,
} from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from 'pino';

/** A recurring task, in graphile-worker's crontab form. */
export type Schedule = CronItem;

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const method = level === 'warning' ? 'warn' : level === 'info' ? 'debug' : level;
    log[method as 'warn' | 'debug' | 'error']({ scope: { ...scope }, ...meta }, message);
  });
}

/** Creates or upgrades graphile-worker's schema (every role needs it: API nodes enqueue jobs). */
export async function migrateJobQueue(pool: pg.Pool, log: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(log) });
}

/** A running worker and the id its jobs are locked under. */
export interface StartedWorker {
  runner: Runner;
  poolId: string | undefined;
}

/**
 * Starts the in-process graphile-worker runner with the tasks and schedules the
 * features contribute. Signals are Landlord's to handle, not the runner's.
 */
export async function startWorker(options: {
  pool: pg.Pool;
  tasks: TaskList;
  schedules: Schedule[];
  concurrency: number;
  pollIntervalMs?: number;
  log: Logger;
}): Promise<StartedWorker> {
  const events: WorkerEvents = new EventEmitter();
  let poolId: string | undefined;
  events.on('pool:create', ({ workerPool }) => {
    poolId = workerPool.id;
  });
  const runner = await run({
    // The pool fetches jobs in batches for its workers (one query instead of one per
    // worker), and completes them in batches too.
    preset: { worker: { localQueue: { size: options.concurrency + 1 }, completeJobBatchDelay: 2, failJobBatchDelay: 2 } },
    pgPool: options.pool,
    taskList: options.tasks,
    parsedCronItems: parseCronItems(options.schedules),
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs ?? 1000,
    logger: workerLogger(options.log),
    events,
  });
  return { runner, poolId };
}
