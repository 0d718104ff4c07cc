import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ComponentState, createComponentMetrics } from './component-metrics.ts';

/** One running instance of a component, as its `start` returned it. */
export interface ComponentInstance {
  /** Stops taking work and finishes (or hands back) what runs. Must not throw. */
  stop(): Promise<void>;
}

/**
 * A background part of a node that the supervisor keeps running: the job runner, the
 * event sequencer, a sweep, the LISTEN connection… Every one goes through
 * {@link Supervisor.run}; none restarts itself.
 */
export interface Component {
  /** Names it in logs, metrics and `/readyz` (`job-runner`, `sweep:renewals`). */
  readonly name: string;
  /**
   * Starts one instance and resolves once it runs; rejects when it cannot start now.
   * The instance calls `fail(cause)` when it stops working by itself (a pass that threw,
   * a connection that dropped); the supervisor then stops it and, after a backoff,
   * starts another. Calls after the first, and calls from an old instance, are ignored.
   */
  start(fail: (cause: unknown) => void): Promise<ComponentInstance>;
  /**
   * False for a component that does not need the database (the embedded server itself):
   * it is restarted without waiting for the database, and its give-up clock always runs.
   */
  readonly needsDatabase?: boolean;
}

export type { ComponentState };

/** The process cannot go on: a component could not be restarted. */
export class ComponentFailedError extends Error {
  override name = 'ComponentFailedError';
  /** The component that could not be restarted. */
  readonly component: string;
  constructor(component: string, downMs: number, cause: unknown) {
    super(
      `The background component "${component}" has been down for ${Math.round(downMs / 1000)} s and cannot be restarted: ${messageOf(cause)}`,
      {
        cause,
      },
    );
    this.component = component;
  }
}

/** How the supervisor restarts and when it gives up (defaults in parentheses). */
export interface SupervisorOptions {
  log: Logger;
  /** The registry `/metrics` serves; the supervisor adds its gauges and counters to it. */
  metrics: Registry;
  /** Whether the database answers now (a `select 1`); asked before each restart of a component that needs it. */
  databaseAnswers: () => Promise<boolean>;
  /** Called once when a component cannot be restarted; the process must exit non-zero. */
  onFatal: (error: ComponentFailedError) => void;
  /** A component down this long (while the database answers, if it needs it) cannot be restarted (120 s). */
  giveUpAfterMs?: number;
  /** The first restart waits this long (250 ms), doubling after each failed attempt up to `maxBackoffMs` (2 s), jittered to 50–100 %. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An instance that ran this long resets the backoff (10 s): a component that keeps crashing at once is not restarted in a tight loop. */
  stableAfterMs?: number;
  /** A start or a stop that takes longer than this is abandoned (30 s). */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  random?: () => number;
}

/** A component under supervision. */
export interface SupervisedComponent {
  readonly name: string;
  state(): ComponentState;
  /** Restarts completed (the component running again after it stopped by itself). */
  restarts(): number;
}

/** The one supervision mechanism of a node: every background component goes through it. */
export interface Supervisor {
  /**
   * Starts `component` and keeps it running. Resolves once the first instance runs; a
   * first start that fails rejects (start-up fails loudly) and leaves nothing running.
   */
  run(component: Component): Promise<SupervisedComponent>;
  /** Each component's state, by name. */
  states(): Record<string, ComponentState>;
  /** True when every component runs. */
  allRunning(): boolean;
  /** Stops every component, the last started first. */
  stop(): Promise<void>;
}

const DATABASE_AWAY = new Error('the database does not answer');
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Creates the supervisor of a node. */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { log } = options;
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 2000;
  const stableAfterMs = options.stableAfterMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const random = options.random ?? Math.random;

  const metrics = createComponentMetrics(options.metrics);

  const entries: Entry[] = [];
  const shutdown = new AbortController();
  let fatal = false;

  interface Entry {
    component: Component;
    state: ComponentState;
    restarts: number;
    instance: ComponentInstance | undefined;
    /** The start that produced the running instance: only its failure counts. */
    current: object | undefined;
    loop: Promise<void>;
  }

  const setState = (entry: Entry, state: ComponentState) => {
    entry.state = state;
    metrics.state(entry.component.name, state);
  };

  /** One start attempt: the instance and the promise its `fail` resolves. */
  const startOnce = async (entry: Entry) => {
    const token = {};
    let crash: (cause: unknown) => void = () => {};
    const crashed = new Promise<unknown>((resolve) => {
      crash = resolve;
    });
    const starting = entry.component.start((cause) => {
      // The component is down from this moment (readiness and metrics say so at once).
      if (entry.current === token && entry.state === 'running') setState(entry, 'restarting');
      crash(cause ?? new Error('stopped without a cause'));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    });
    try {
      const instance = await Promise.race([starting, timeout]);
      return { instance, crashed, token };
    } catch (error) {
      // A start that finishes after it was given up on must not leave an instance running.
      starting.then(
        (late) => late.stop(),
        () => {},
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  const stopInstance = async (entry: Entry) => {
    const instance = entry.instance;
    entry.instance = undefined;
    if (!instance) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), stopTimeoutMs);
    });
    const stopped = instance.stop().then(
      () => false,
      (error) => {
        log.warn({ err: error, component: entry.component.name }, 'background component did not stop cleanly');
        return false;
      },
    );
    if (await Promise.race([stopped, timedOut])) {
      log.warn({ component: entry.component.name, stopTimeoutMs }, 'background component did not stop in time; going on without it');
    }
    clearTimeout(timer);
  };

  const backoffMs = (attempt: number) => Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);

  /** Watches one component for ever: each crash is logged once, and the component restarted until it runs again. */
  const supervise = async (entry: Entry, crashed: Promise<unknown>) => {
    const { component } = entry;
    const name = component.name;
    let startedAt = Date.now();
    let attempt = 0;
    for (;;) {
      const cause = await Promise.race([crashed, aborted()]);
      if (shutdown.signal.aborted) return;
      metrics.failed(name);
      setState(entry, 'restarting');
      log.warn({ component: name, err: cause }, `${name} stopped: ${messageOf(cause)}; restarting it`);
      await stopInstance(entry);
      if (Date.now() - startedAt >= stableAfterMs) attempt = 0;

      const downSince = Date.now();
      let databaseUpSince: number | undefined;
      let lastCause = messageOf(cause);
      for (;;) {
        attempt++;
        await sleep(backoffMs(attempt), undefined, { signal: shutdown.signal }).catch(() => {});
        if (shutdown.signal.aborted) return;
        let failure: unknown;
        if (component.needsDatabase !== false && !(await options.databaseAnswers().catch(() => false))) {
          databaseUpSince = undefined;
          failure = DATABASE_AWAY;
        } else {
          databaseUpSince ??= Date.now();
          try {
            const started = await startOnce(entry);
            if (shutdown.signal.aborted) {
              await started.instance.stop().catch(() => {});
              return;
            }
            entry.instance = started.instance;
            entry.current = started.token;
            crashed = started.crashed;
            break;
          } catch (error) {
            failure = error;
          }
        }
        // Once per distinct cause, not once per attempt; waiting for the database is no news (the stop said why).
        if (messageOf(failure) !== lastCause) {
          lastCause = messageOf(failure);
          const level = failure === DATABASE_AWAY ? 'debug' : 'warn';
          log[level]({ component: name, err: failure, attempt }, `${name} cannot restart yet: ${lastCause}`);
        }
        const now = Date.now();
        const givingUp =
          now - downSince >= giveUpAfterMs &&
          (component.needsDatabase === false || (databaseUpSince !== undefined && now - databaseUpSince >= giveUpAfterMs));
        if (givingUp) {
          setState(entry, 'failed');
          const error = new ComponentFailedError(name, now - downSince, failure);
          log.fatal({ component: name, err: failure, attempts: attempt }, error.message);
          if (!fatal) {
            fatal = true;
            options.onFatal(error);
          }
          return;
        }
      }
      entry.restarts++;
      metrics.restarted(name);
      startedAt = Date.now();
      setState(entry, 'running');
      log.info({ component: name, attempts: attempt, downMs: startedAt - downSince }, `${name} restarted`);
    }
  };

  const aborted = () =>
    new Promise<undefined>((resolve) => {
      if (shutdown.signal.aborted) resolve(undefined);
      shutdown.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });

  return {
    async run(component) {
      if (shutdown.signal.aborted) throw new Error('the supervisor is stopped');
      if (entries.some((entry) => entry.component.name === component.name))
        throw new Error(`a component named "${component.name}" runs already`);
      const entry: Entry = { component, state: 'starting', restarts: 0, instance: undefined, current: undefined, loop: Promise.resolve() };
      setState(entry, 'starting');
      const started = await startOnce(entry).catch((error) => {
        setState(entry, 'failed');
        throw error;
      });
      entries.push(entry);
      entry.instance = started.instance;
      entry.current = started.token;
      setState(entry, 'running');
      entry.loop = supervise(entry, started.crashed);
      return { name: component.name, state: () => entry.state, restarts: () => entry.restarts };
    },
    states: () => Object.fromEntries(entries.map((entry) => [entry.component.name, entry.state])),
    allRunning: () => entries.every((entry) => entry.state === 'running'),
    async stop() {
      shutdown.abort();
      for (const entry of [...entries].reverse()) {
        await entry.loop;
        await stopInstance(entry);
        setState(entry, 'stopped');
      }
    },
  };
}
