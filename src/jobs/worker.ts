import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CronItem, parseCronItems, run, runMigrations, type TaskList, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { Component } from '../platform/supervisor.ts';
import { observeBackgroundWork, shutdownContainment, trackTasks, workerLogger } from './graphile-guards.ts';
import type { NodeIdentity } from './nodes.ts';

// How long a stopping runner's pool gets to end cleanly (hand back the jobs it queued) once its tasks finished.
const RELEASE_WAIT_MS = 5000;

/** A recurring task, in graphile-worker's crontab form. */
export type Schedule = CronItem;

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
 * A runner that lost its database connection is replaced: graphile-worker 0.18 cannot
 * be trusted to carry on (a job fetch whose answer was lost leaves jobs locked under a
 * live pool for four hours; a completion that could not be written shuts the pool down,
 * and after two such failures its shutdown never finishes). So the first log line that
 * carries a lost connection, or the pool starting to shut down by itself, fails this
 * instance. Stopping it waits for its running tasks, not for the rest of graphile's
 * shutdown; the next instance first hands every job the old pool still locks back to the
 * queue (`force_unlock_workers`), so no job is lost and none runs twice at once. The
 * failures graphile-worker would leave unhandled are contained (`graphile-guards.ts`).
 * Signals are Landlord's to handle, not the runner's.
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
      let poolId: string | undefined;
      let stopping = false;
      let failed = false;
      const lost = (cause: unknown) => {
        if (stopping) return;
        failed = true;
        fail(cause);
      };
      const events: WorkerEvents = new EventEmitter();
      events.on('pool:create', ({ workerPool }) => {
        poolId = workerPool.id;
      });
      events.on('pool:gracefulShutdown', ({ message }) => lost(new Error(`the worker pool is shutting down: ${message}`)));
      events.on('pool:release', () => lost(new Error('the worker pool stopped')));
      events.on('localQueue:init', ({ localQueue }) => observeBackgroundWork(localQueue));
      const tracked = trackTasks(options.tasks);
      const runner = await run({
        preset: {
          plugins: [shutdownContainment(lost)],
          // The pool fetches jobs in batches for its workers (one query instead of one per
          // worker), and completes them in batches too.
          worker: {
            localQueue: { size: options.concurrency + 1 },
            completeJobBatchDelay: 2,
            failJobBatchDelay: 2,
          },
        },
        pgPool: options.pool,
        taskList: tracked.tasks,
        parsedCronItems: parseCronItems(options.schedules),
        concurrency: options.concurrency,
        noHandleSignals: true,
        pollInterval: options.pollIntervalMs ?? 1000,
        logger: workerLogger(options.log, { onUnavailable: lost, retiring: () => failed || stopping }),
        events,
      });
      const id = poolId as string;
      const released = once(events, 'pool:release').catch(() => {});
      const stop = async () => {
        stopping = true;
        const stopped = runner.stop().catch(() => {});
        await tracked.drained();
        // A healthy pool hands its queued jobs back and ends at once; a broken one may never
        // end (or wait for its cron for a minute): its jobs are handed back by the next start.
        await Promise.race([stopped, released, sleep(RELEASE_WAIT_MS)]);
        retired.add(id);
      };
      try {
        await options.db.updateTable('landlord_nodes').set({ worker_pool_id: id }).where('id', '=', options.node.id).execute();
      } catch (error) {
        await stop();
        throw error;
      }
      options.node.workerPoolId = id;
      runner.promise.then(
        () => lost(new Error('the runner stopped')),
        (error) => lost(error),
      );
      return { stop };
    },
  };
}
