import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..');
/** The Node 24 binary of the `node` devDependency (never the machine's Node). */
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');
/** Landlord's command-line entry. */
export const CLI = join(ROOT, 'src', 'cli.ts');

/** A process the bench started, known by its pid. */
export interface Started {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it has exited. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Started>();

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `node [nodeArgs] script [args]` as a child process with only the given
 * environment (plus PATH and HOME), so nothing of the bench's own shell leaks in.
 */
export function startNode(
  name: string,
  script: string,
  options: { args?: string[]; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Started {
  const child = spawn(NODE, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    // Only the tail is kept: a chatty process must not grow the bench's memory.
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const started: Started = {
    name,
    pid,
    child,
    output: () => output,
    exited,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        signal(pid, 'SIGTERM');
        const timer = sleep(graceMs).then(() => 'timeout' as const);
        if ((await Promise.race([exited, timer])) === 'timeout') {
          signal(pid, 'SIGKILL');
          await exited;
        }
      }
      running.delete(started);
    },
  };
  running.add(started);
  exited.then(() => running.delete(started));
  return started;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Stops every process the bench started and that still runs (each by its own pid). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((started) => started.stop(10_000)));
}

/** Polls `url` until it answers 200; fails if the process exits or `timeoutMs` passes. */
export async function waitForHttp(started: Started, url: string, timeoutMs = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`${started.name} exited with ${started.child.exitCode}:\n${started.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(everyMs);
  }
  throw new Error(`${started.name} did not answer ${url} within ${timeoutMs} ms:\n${started.output().slice(-4000)}`);
}

/** Waits until the process has written a line matching `pattern` to stdout or stderr. */
export async function waitForOutput(started: Started, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(started.output())) {
    if (started.child.exitCode !== null) throw new Error(`${started.name} exited with ${started.child.exitCode}:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`${started.name} did not print ${pattern} within ${timeoutMs} ms:\n${started.output()}`);
    await sleep(20);
  }
}
