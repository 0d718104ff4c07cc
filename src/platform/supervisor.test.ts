import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { type Component, type ComponentFailedError, createSupervisor, type Supervisor, type SupervisorOptions } from './supervisor.ts';

/** A component whose instances the test fails and inspects. */
function testComponent(name: string, options: { needsDatabase?: boolean; startFails?: () => unknown } = {}) {
  const instances: Array<{ fail: (cause: unknown) => void; stopped: boolean }> = [];
  const component: Component = {
    name,
    ...(options.needsDatabase === undefined ? {} : { needsDatabase: options.needsDatabase }),
    async start(fail) {
      const cause = options.startFails?.();
      if (cause) throw cause;
      const instance = { fail, stopped: false };
      instances.push(instance);
      return {
        async stop() {
          instance.stopped = true;
        },
      };
    },
  };
  return { component, instances, current: () => instances.at(-1) };
}

function logCapture() {
  const lines: Array<{ level: number; msg: string; component?: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines, warnings: () => lines.filter((line) => line.level >= 40) };
}

const running: Supervisor[] = [];
afterEach(async () => {
  for (const supervisor of running.splice(0)) await supervisor.stop();
});

function supervisor(overrides: Partial<SupervisorOptions> & { database?: { up: boolean } } = {}) {
  const capture = logCapture();
  const metrics = new Registry();
  const fatal: ComponentFailedError[] = [];
  const database = overrides.database ?? { up: true };
  const created = createSupervisor({
    log: capture.log,
    metrics,
    databaseAnswers: async () => {
      if (!database.up) throw new Error('connect ECONNREFUSED');
      return true;
    },
    onFatal: (error) => fatal.push(error),
    initialBackoffMs: 5,
    maxBackoffMs: 40,
    giveUpAfterMs: 60_000,
    ...overrides,
  });
  running.push(created);
  return { supervisor: created, metrics, fatal, database, ...capture };
}

describe('the supervisor', () => {
  it('restarts a component that stops by itself, counts the restart, and shows its state in the metrics', async () => {
    const { supervisor: sup, metrics } = supervisor();
    const test = testComponent('sweep:test');
    const handle = await sup.run(test.component);
    expect(handle.state()).toBe('running');
    expect(sup.allRunning()).toBe(true);

    test.current()?.fail(new Error('Connection terminated unexpectedly'));
    expect(handle.state()).toBe('restarting');
    expect(sup.allRunning()).toBe(false);
    await eventually(async () => (handle.state() === 'running' ? true : undefined), 2000, 'running again');
    expect(test.instances).toHaveLength(2);
    expect(test.instances[0]?.stopped).toBe(true);
    expect(handle.restarts()).toBe(1);

    const text = await metrics.metrics();
    expect(text).toContain('landlord_component_up{component="sweep:test"} 1');
    expect(text).toContain('landlord_component_restarts_total{component="sweep:test"} 1');
    expect(text).toContain('landlord_component_failures_total{component="sweep:test"} 1');
    expect(text).toContain('landlord_component_state{component="sweep:test",state="running"} 1');
    expect(text).toContain('landlord_component_state{component="sweep:test",state="restarting"} 0');
  });

  it('waits for the database before restarting, and logs the stop and the restart once each, not once per attempt', async () => {
    const { supervisor: sup, database, warnings, lines } = supervisor();
    const test = testComponent('event-sequencer');
    const handle = await sup.run(test.component);
    database.up = false;
    test.current()?.fail(new Error('Connection terminated unexpectedly'));
    // Many attempts (backoff capped at 40 ms) while the database is away: none starts an instance.
    await sleep(600);
    expect(test.instances).toHaveLength(1);
    expect(handle.state()).toBe('restarting');

    database.up = true;
    await eventually(async () => (handle.state() === 'running' ? true : undefined), 2000, 'running again');
    expect(test.instances).toHaveLength(2);
    const messages = warnings().map((line) => line.msg);
    expect(messages).toEqual(['event-sequencer stopped: Connection terminated unexpectedly; restarting it']);
    expect(lines.filter((line) => line.msg === 'event-sequencer restarted')).toHaveLength(1);
  });

  it('never gives up while the database does not answer, however long the outage', async () => {
    const { supervisor: sup, database, fatal } = supervisor({ giveUpAfterMs: 100 });
    const test = testComponent('job-runner');
    const handle = await sup.run(test.component);
    database.up = false;
    test.current()?.fail(new Error('Connection terminated unexpectedly'));
    await sleep(700);
    expect(fatal).toEqual([]);
    expect(handle.state()).toBe('restarting');
    database.up = true;
    await eventually(async () => (handle.state() === 'running' ? true : undefined), 2000, 'running again');
    expect(fatal).toEqual([]);
  });

  it('gives up on a component that keeps failing to start while the database answers, and says which', async () => {
    let broken = false;
    const { supervisor: sup, fatal } = supervisor({ giveUpAfterMs: 200 });
    const test = testComponent('node-heartbeat', {
      startFails: () => (broken ? new Error('relation "landlord_nodes" does not exist') : undefined),
    });
    const handle = await sup.run(test.component);
    broken = true;
    test.current()?.fail(new Error('relation "landlord_nodes" does not exist'));
    await eventually(async () => (fatal.length ? true : undefined), 3000, 'giving up');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.component).toBe('node-heartbeat');
    expect(fatal[0]?.message).toMatch(
      /^The background component "node-heartbeat" has been down for \d+ s and cannot be restarted: relation/,
    );
    expect(handle.state()).toBe('failed');
  });

  it('gives up on a component that needs no database after the same time, database or not', async () => {
    const { supervisor: sup, database, fatal } = supervisor({ giveUpAfterMs: 150 });
    let broken = false;
    const test = testComponent('embedded-postgres', {
      needsDatabase: false,
      startFails: () => (broken ? new Error('could not bind IPv4 address "127.0.0.1": Address already in use') : undefined),
    });
    await sup.run(test.component);
    database.up = false;
    broken = true;
    test.current()?.fail(new Error('the embedded PostgreSQL server exited'));
    await eventually(async () => (fatal.length ? true : undefined), 3000, 'giving up');
    expect(fatal[0]?.component).toBe('embedded-postgres');
  });

  it('ignores a failure reported by an instance it already replaced, and a second report of the same one', async () => {
    const { supervisor: sup } = supervisor();
    const test = testComponent('listener');
    const handle = await sup.run(test.component);
    const first = test.current();
    first?.fail(new Error('lost'));
    first?.fail(new Error('lost again'));
    await eventually(async () => (handle.state() === 'running' ? true : undefined), 2000, 'running again');
    first?.fail(new Error('late'));
    await sleep(100);
    expect(handle.state()).toBe('running');
    expect(handle.restarts()).toBe(1);
    expect(test.instances).toHaveLength(2);
  });

  it('fails a first start loudly, and stops what runs last started first', async () => {
    const { supervisor: sup } = supervisor();
    const broken = testComponent('broken', { startFails: () => new Error('no such task') });
    await expect(sup.run(broken.component)).rejects.toThrow('no such task');

    const order: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      await sup.run({ name, start: async () => ({ stop: async () => void order.push(name) }) });
    }
    await sup.stop();
    expect(order).toEqual(['c', 'b', 'a']);
    expect(sup.states()).toEqual({ a: 'stopped', b: 'stopped', c: 'stopped' });
    await expect(sup.run(testComponent('late').component)).rejects.toThrow('the supervisor is stopped');
  });

  it('backs off exponentially with jitter, capped, and does not restart a crash-looping component in a tight loop', async () => {
    const { supervisor: sup } = supervisor({ initialBackoffMs: 20, maxBackoffMs: 80, stableAfterMs: 60_000, random: () => 1 });
    const test = testComponent('flapping');
    const handle = await sup.run(test.component);
    const gaps: number[] = [];
    let last = Date.now();
    for (let crash = 0; crash < 4; crash++) {
      test.current()?.fail(new Error('boom'));
      const restarts = handle.restarts();
      await eventually(async () => (handle.restarts() > restarts ? true : undefined), 2000, 'restarted');
      gaps.push(Date.now() - last);
      last = Date.now();
    }
    // 20, 40, 80, 80 ms (random() = 1: the top of the jitter range); the timers may run late, never early.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
    expect(gaps[3]).toBeGreaterThanOrEqual(79);
    expect(Math.max(...gaps)).toBeLessThan(500);
  });
});
