import type { TaskList } from 'graphile-worker';
import { Logger as WorkerLogger } from 'graphile-worker';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/unavailable.ts';

// What it takes to run graphile-worker 0.18 through database outages (read in its
// dist/main.js, localQueue.js and runner.js). Each guard names the failure it contains.

/**
 * graphile-worker's log lines in pino. A line carrying a lost database connection goes
 * to debug (the outage is reported once, by the supervisor and readiness, not once per
 * poll) and to `onUnavailable`: the runner that lost its connection is replaced. Once
 * `retiring()` says the runner is being replaced, its lines (the errors of its shutdown)
 * go to debug too.
 */
export function workerLogger(
  log: Logger,
  runner: { onUnavailable(error: unknown): void; retiring(): boolean } = { onUnavailable: () => {}, retiring: () => false },
): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const cause = meta?.error ?? meta?.fatalError;
    const unavailable = isDatabaseUnavailable(cause);
    if (unavailable) runner.onUnavailable(cause);
    // The runner stopping is the job-runner component stopping: the supervisor logs that once, with its cause.
    const quiet = level === 'info' || unavailable || runner.retiring() || message.startsWith('Runner stopping');
    const method = quiet ? 'debug' : level === 'warning' ? 'warn' : level;
    log[method as 'warn' | 'debug' | 'error']({ scope: { ...scope }, ...meta }, message);
  });
}

/**
 * graphile-worker starts a pool's graceful shutdown without waiting for it from four
 * places (a batch of completions or failures that could not be written, the local queue
 * failing to hand jobs back, a worker exiting early, the abort timer). When the database
 * is down that shutdown fails, and its promise would reject with nobody to handle it,
 * killing the process. Both shutdowns go through this middleware, which reports the
 * error instead.
 */
export function shutdownContainment(report: (error: unknown) => void): GraphileConfig.Plugin {
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

/**
 * The local queue hands the promise of its work (handing jobs back to the database) to
 * a private `background()`, which throws before attaching its handlers when the queue is
 * released while jobs wait in it (`setModeReleased` from WAITING). That promise rejects
 * when the database is down ("Error occurred whilst returning jobs from local queue to
 * database queue") with nobody to handle it, killing the process. Every promise is
 * observed before it is handed over; the throw itself still reaches the pool ("Releasing
 * local queue failed"), and the next runner hands the jobs back.
 */
export function observeBackgroundWork(localQueue: object): void {
  const queue = localQueue as { background(work: Promise<unknown>): void };
  const background = queue.background.bind(queue);
  queue.background = (work) => {
    work.catch(() => {});
    background(work);
  };
}

/** The tasks, counted while they run: a retired runner's jobs are handed back only once none of its tasks runs. */
export function trackTasks(tasks: TaskList): { tasks: TaskList; drained(): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  const tracked: TaskList = {};
  for (const [name, task] of Object.entries(tasks)) {
    if (!task) continue;
    tracked[name] = (payload, helpers) => {
      const run = Promise.resolve().then(() => task(payload, helpers));
      running.add(run);
      run.then(
        () => running.delete(run),
        () => running.delete(run),
      );
      return run;
    };
  }
  return {
    tasks: tracked,
    async drained() {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}
