import type { Component } from '../platform/supervisor.ts';

/**
 * The one pattern every time-driven sweep follows (report deadlines, renewals, trial
 * ends, recurring bills, usage windows…): a function that handles at most one batch of
 * due rows — claimed with `FOR UPDATE SKIP LOCKED`, so several nodes share the work
 * without doing it twice — and says how many it handled. The runner calls it every
 * `intervalMs`, and again at once while batches come back full.
 */
export interface Sweep {
  /** Names the sweep in logs and metrics (`report-deadlines`, `renewals`). */
  readonly name: string;
  /** How often a node looks for due work. */
  readonly intervalMs: number;
  /** The most `sweepOnce` handles in one call; a full batch is followed by another at once. */
  readonly batchSize: number;
  /** Handles at most `batchSize` due items, each change in its own transaction; returns how many it handled. */
  sweepOnce(): Promise<number>;
}

/** A sweep running on this node. */
export interface RunningSweep {
  readonly name: string;
  /** Sweeps until nothing is due (or waits for the pass under way); resolves with how many items it handled. */
  runNow(): Promise<number>;
  /** Stops the timer and waits for the pass under way. */
  stop(): Promise<void>;
}

/**
 * Runs `sweep` on this node: one pass at a time; a pass calls `sweepOnce` until a batch
 * comes back less than full. A failed pass is reported to `onError` and tried again at
 * the next tick (a sweep is idempotent: whatever it did not commit is still due). The
 * node runs its sweeps through {@link sweepComponent}, where `onError` is the
 * supervisor's: the sweep is stopped and started again with backoff.
 */
export function startSweep(sweep: Sweep, onError: (error: unknown) => void): RunningSweep {
  let running: Promise<number> | undefined;
  let stopped = false;
  const pass = (): Promise<number> => {
    running ??= (async () => {
      let total = 0;
      for (;;) {
        const handled = await sweep.sweepOnce();
        total += handled;
        if (handled < sweep.batchSize || stopped) return total;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    pass().catch(onError);
  }, sweep.intervalMs);
  timer.unref();
  return {
    name: sweep.name,
    runNow: pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}

/** A sweep run by the supervisor; `runNow` sweeps on the instance that runs now. */
export interface SupervisedSweep extends Component {
  readonly sweep: Sweep;
  /** As {@link RunningSweep.runNow}; rejects while the sweep is not running (being restarted). */
  runNow(): Promise<number>;
}

/**
 * A sweep as a supervised component (`sweep:<name>`): a failed pass stops it and the
 * supervisor starts it again with backoff, its state and restarts in `/metrics` and
 * `/readyz`. Every entry of `buildSweeps` runs this way: a new sweep needs nothing else.
 */
export function sweepComponent(sweep: Sweep): SupervisedSweep {
  let current: RunningSweep | undefined;
  return {
    name: `sweep:${sweep.name}`,
    sweep,
    async start(fail) {
      const running = startSweep(sweep, fail);
      current = running;
      return {
        async stop() {
          if (current === running) current = undefined;
          await running.stop();
        },
      };
    },
    runNow() {
      return current ? current.runNow() : Promise.reject(new Error(`the ${sweep.name} sweep is not running right now`));
    },
  };
}
