import { EventEmitter } from 'node:events';
import {
  type CronItem,
  parseCronItems,
  run,
  runMigrations,
  type TaskList,
  type WorkerEvents,
  Logger as WorkerLogger,
} from 'graphile-worker';
import { sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { Component } from '../platform/supervisor.ts';
import type { NodeIdentity } from './nodes.ts';

/** A recurring task, in graphile-worker's crontab form. */
export type Schedule = CronItem;

/**
 * graphile-worker's log lines in pino. A line about a lost database connection goes to
 * debug: the outage is reported once, by the supervisor and readiness, not once per poll.
 */
function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const cause = meta?.error ?? meta?.fatalError;
    const method = level === 'info' || isDatabaseUnavailable(cause) ? 'debug' : level === 'warning' ? 'warn' : level;
    log[method as 'warn' | 'debug' | 'error']({ scope: { ...scope }, ...meta }, message);
  });
}

/** Creates or upgrades graphile-worker's schema (every role needs it: API nodes enqueue jobs). */
export async function migrateJobQueue(pool: pg.Pool, log: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(log) });
}

/** What the job runner needs. */
export interface JobRunnerOptions {
  pool: pg.Pool;
  db: Db;
  tasks: TaskList;
  schedules: Schedule[];
  concurrency: number;
  pollIntervalMs?: number;
  log: Logger;
  /** This node; the runner records its worker pool id there, so that the node's death releases the pool's jobs. */
  node: NodeIdentity;
}

/**
 * The in-process graphile-worker runner as a supervised component (`job-runner`).
 *
 * graphile-worker survives a database outage as long as nothing needs writing: its
 * fetches fail and are tried again at the next poll. When a job's completion, failure
 * or hand-back cannot be written, its pool shuts itself down ("queue is in an
 * inconsistent state") once every running task has finished; that is this component
 * stopping by itself. Its pool's shutdown promises are never left to reject unhandled
 * (see `containment`), and the next instance first hands the jobs the dead pool still
 * locks back to the queue (`force_unlock_workers`): its tasks have all finished by then,
 * so no job runs twice at once. Signals are Landlord's to handle, not the runner's.
 */
export function jobRunnerComponent(options: JobRunnerOptions): Component {
  // Pools of earlier instances whose locked jobs are still to be handed back.
  const retired = new Set<string>();
  return {
    name: 'job-runner',
    async start(fail) {
      if (retired.size) {
        await sql`select graphile_worker.force_unlock_workers(${[...retired]}::text[])`.execute(options.db);
        retired.clear();
      }
      const events: WorkerEvents = new EventEmitter();
      let poolId: string | undefined;
      let cause: unknown;
      let stopping = false;
      events.on('pool:create', ({ workerPool }) => {
        poolId = workerPool.id;
      });
      events.on('pool:fatalError', ({ error }) => {
        cause ??= error;
      });
      events.on('pool:gracefulShutdown', ({ message }) => {
        cause ??= new Error(message);
      });
      const runner = await run({
        preset: {
          plugins: [containment((error) => (cause ??= error))],
          // The pool fetches jobs in batches for its workers (one query instead of one per
          // worker), and completes them in batches too.
          worker: {
            localQueue: { size: options.concurrency + 1 },
            completeJobBatchDelay: 2,
            failJobBatchDelay: 2,
          },
        },
        pgPool: options.pool,
        taskList: options.tasks,
        parsedCronItems: parseCronItems(options.schedules),
        concurrency: options.concurrency,
        noHandleSignals: true,
        pollInterval: options.pollIntervalMs ?? 1000,
        logger: workerLogger(options.log),
        events,
      });
      const id = poolId as string;
      const stop = async () => {
        stopping = true;
        // Resolves at once when the pool already stopped by itself.
        await runner.stop().catch(() => {});
        retired.add(id);
      };
      try {
        await options.db.updateTable('landlord_nodes').set({ worker_pool_id: id }).where('id', '=', options.node.id).execute();
      } catch (error) {
        await stop();
        throw error;
      }
      options.node.workerPoolId = id;
      const ended = () => {
        if (!stopping) fail(cause ?? new Error('the worker pool stopped'));
      };
      runner.promise.then(ended, ended);
      return { stop };
    },
  };
}

/**
 * graphile-worker 0.18 starts a pool's graceful shutdown without waiting for it from
 * four places (a batch of completions or failures that could not be written, the local
 * queue failing to hand jobs back, a worker exiting early, the abort timer). When the
 * database is down that shutdown fails, and its promise would reject with nobody to
 * handle it, killing the process. Both shutdowns go through this middleware, which
 * reports the error instead; the pool still ends, and the runner's promise tells.
 */
function containment(report: (error: unknown) => void): GraphileConfig.Plugin {
  return {
    name: 'LandlordShutdownContainment',
    version: '1.0.0',
    worker: {
      middleware: {
        async poolGracefulShutdown(next) {
          try {
            await next();
          } catch (error) {
            report(error);
          }
        },
        async poolForcefulShutdown(next) {
          try {
            return await next();
          } catch (error) {
            report(error);
            return { forceFailedJobs: [] };
          }
        },
      },
    },
  };
}
