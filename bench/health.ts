/**
 * health: 100,000 live tenants (seeded in SQL, each with its health row) whose health
 * URL points at the loopback simulator. First every tenant is due at once (a full
 * round as fast as Landlord can go: its capacity), then one steady interval in which
 * the probes are spread over the interval. API reads run throughout. Beside it, the
 * ceiling: a bare undici loop making the same GETs with the same concurrency.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.ts';
import { measureCpu } from './cpu.ts';
import { type BenchDatabase, createDatabase } from './database.ts';
import { reportHealth } from './health-report.ts';
import { ADMIN_KEY, call, expectCall, startLandlordProcess } from './landlord.ts';
import type { Started } from './processes.ts';
import type { ScenarioReport } from './report.ts';
import { type Simulator, startSimulator } from './simulator-client.ts';
import { fmt, inParallel, latencies } from './stats.ts';

/** The sizes of the health scenario. */
export interface HealthOptions {
  tenants: number;
  intervalSeconds: number;
  /** API reads per second while probing (open loop). */
  readRate: number;
}

const API_KEY = 'bench-backend-api-key-0123456789';
// Landlord's defaults: the ceiling makes its GETs with the same concurrency against the one host.
export const DEFAULTS = loadConfig({});
export const PER_HOST = DEFAULTS.healthPerHost;
export const TIMEOUT_S = 5;
/** API reads are first measured for this long with nothing due, to tell the prober's share of their latency. */
export const BASELINE_S = 10;

/** What one window of probing measured. */
export interface Window {
  probes: number;
  seconds: number;
  perSecond: number;
  /** Share of one core, and the peak resident memory (MiB). */
  landlordCpu: number;
  postgresCpu: number;
  peakRssMiB: number;
  reads: { p50: number; p99: number; max: number; count: number };
  /** Tenants probed (written back) during the window. */
  covered: number;
}

/** Runs the health scenario and returns its part of the results. */
export async function runHealth(options: HealthOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const simulator = await startSimulator();
  const started: Started[] = [simulator.process];
  let database: BenchDatabase | undefined;
  try {
    log(`health: ceiling — bare undici loop, ${options.tenants} GETs, ${PER_HOST} at once`);
    const ceiling = await runCeiling(simulator, options.tenants);

    database = await createDatabase('health');
    const landlord = await startLandlordProcess('health', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const product = await expectCall(201, landlord.url, 'POST', '/v1/products', {
      token: ADMIN_KEY,
      body: {
        name: 'watched',
        displayName: 'Watched',
        apiKey: API_KEY,
        webhooks: { unavailable: `${simulator.url}/api/integration/{name}/unavailable` },
        healthCheck: {
          url: `${simulator.url}/api/integration/{name}/health-status`,
          intervalSeconds: options.intervalSeconds,
          timeoutSeconds: TIMEOUT_S,
        },
      },
    });
    const client = new pg.Client({ connectionString: database.url, application_name: 'landlord-bench' });
    await client.connect();
    try {
      log(`health: seeding ${options.tenants} live tenants`);
      await seed(client, product.data.id, options.tenants);
      await simulator.reset();
      const measure = (during: () => Promise<void>) =>
        measureWindow(landlord.url, simulator, (database as BenchDatabase).name, landlord.process.pid, options, during);
      // Every tenant falls due at one moment after the baseline: by the clock, with nothing written then.
      // (Far enough ahead that the update, its vacuum and the baseline are over by then.)
      const burstStart = new Date(Date.now() + (BASELINE_S + 20) * 1000);
      await client.query('update tenant_health set next_probe_at = $1', [burstStart]);
      await client.query('vacuum analyze tenant_health');
      if (Date.now() > burstStart.getTime() - BASELINE_S * 1000)
        throw new Error('preparing the round took too long to measure a baseline first');
      log('health: API reads with nothing due (baseline)');
      const idle = await measure(() => sleep(BASELINE_S * 1000));
      const calls = (await simulator.count()).calls;
      await sleep(Math.max(0, burstStart.getTime() - Date.now()));
      log('health: every tenant due at once');
      const burst = await measure(() => waitProbed(client, simulator, { calls, at: burstStart }, options.tenants, 600_000));
      log(`health: ${fmt(burst.perSecond, 0)} probes/s; then one steady interval of ${options.intervalSeconds} s`);
      const steadyStart = new Date();
      const steady = await measure(() => sleep(options.intervalSeconds * 1000));
      steady.covered = await countProbedSince(client, steadyStart);
      return reportHealth(options, { ceiling, idle, burst, steady });
    } finally {
      await client.end();
    }
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database?.drop();
  }
}

/**
 * Live tenants in status `active`, each with its health row as after a day of
 * watching (healthy, probed a minute ago), not due yet.
 */
async function seed(client: pg.Client, productId: string, count: number): Promise<void> {
  await client.query(
    `insert into tenants (id, product_id, name, display_name, status, last_stable_status)
     select gen_random_uuid(), $1, 'h-' || i, 'Tenant ' || i, 'active', 'active' from generate_series(1, $2::int) i`,
    [productId, count],
  );
  await client.query(
    `insert into tenant_health (tenant_id, product_id, state, state_since, last_probe_at, next_probe_at)
     select id, product_id, 'healthy', now() - interval '1 day', now() - interval '1 minute', now() + interval '1 day'
     from tenants where product_id = $1`,
    [productId],
  );
  await client.query('vacuum analyze tenants');
  await client.query('vacuum analyze tenant_health');
}

async function countProbedSince(client: pg.Client, since: Date): Promise<number> {
  const { rows } = await client.query<{ count: number }>('select count(*)::int as count from tenant_health where last_probe_at >= $1', [
    since,
  ]);
  return rows[0]?.count ?? 0;
}

/**
 * Waits until every tenant's result is written back. Progress is read from the
 * simulator (cheap); the table is counted only once the probes have all arrived, so
 * the bench's own queries do not load the database it measures.
 */
async function waitProbed(
  client: pg.Client,
  simulator: Simulator,
  from: { calls: number; at: Date },
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const since = from.at;
  const callsBefore = from.calls;
  for (;;) {
    const sent = (await simulator.count()).calls - callsBefore;
    if (sent >= expected && (await countProbedSince(client, since)) >= expected) return;
    if (Date.now() > deadline)
      throw new Error(`only ${await countProbedSince(client, since)} of ${expected} tenants probed within ${timeoutMs} ms`);
    await sleep(sent >= expected ? 50 : 100);
  }
}

/** Resident memory of a process, MiB. */
function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Measures probes (as the simulator counts them), CPU, peak memory and API read
 * latency while `during` runs. Reads are `GET /v1/tenants/{name}` of random seeded
 * tenants, sent on schedule whether or not earlier ones were answered (open loop).
 */
async function measureWindow(
  url: string,
  simulator: Simulator,
  database: string,
  pid: number,
  options: HealthOptions,
  during: () => Promise<void>,
): Promise<Window> {
  const callsBefore = (await simulator.count()).calls;
  const cpu = await measureCpu({ landlord: pid }, database);
  const startedAt = performance.now();
  let peakRss = rssMiB(pid);
  let running = true;
  const took: number[] = [];
  const pending: Promise<void>[] = [];
  const reader = (async () => {
    for (let sent = 0; running; await sleep(5)) {
      const due = Math.floor(((performance.now() - startedAt) / 1000) * options.readRate) + 1;
      for (; sent < due; sent++) {
        const name = `h-${1 + Math.floor(Math.random() * options.tenants)}`;
        const at = performance.now();
        pending.push(
          call(url, 'GET', `/v1/tenants/${name}`, { token: ADMIN_KEY }).then((answer) => {
            if (answer.status !== 200) throw new Error(`GET /v1/tenants/${name}: ${answer.status}`);
            took.push(performance.now() - at);
          }),
        );
      }
      peakRss = Math.max(peakRss, rssMiB(pid));
    }
  })();
  await during();
  const seconds = (performance.now() - startedAt) / 1000;
  running = false;
  await reader;
  await Promise.all(pending);
  const used = await cpu.stop();
  const probes = (await simulator.count()).calls - callsBefore;
  return {
    probes,
    seconds,
    perSecond: probes / seconds,
    landlordCpu: (used.processMs.landlord ?? 0) / used.wallMs,
    postgresCpu: used.postgresMs / used.wallMs,
    peakRssMiB: peakRss,
    reads: latencies(took),
    covered: 0,
  };
}

/** The ceiling: the same GETs (URL, `api-key`, timeout) by a bare undici loop, `PER_HOST` at once. */
async function runCeiling(simulator: Simulator, count: number): Promise<{ seconds: number; perSecond: number; cpu: number }> {
  const agent = new Agent({ connections: PER_HOST, keepAliveTimeout: 10_000, pipelining: 1 });
  await simulator.reset();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await inParallel(
      Array.from({ length: count }, (_, index) => index),
      PER_HOST,
      async (index) => {
        // The deadline as OutboundHttp sets it: a timer cleared when the call ends.
        const deadline = new AbortController();
        const timer = setTimeout(() => deadline.abort(), TIMEOUT_S * 1000);
        try {
          const response = await request(`${simulator.url}/api/integration/h-${index + 1}/health-status`, {
            method: 'GET',
            dispatcher: agent,
            headers: { 'user-agent': 'Landlord/0.1', 'api-key': API_KEY },
            signal: deadline.signal,
            headersTimeout: TIMEOUT_S * 1000,
            bodyTimeout: TIMEOUT_S * 1000,
          });
          await response.body.text();
          if (response.statusCode !== 200) throw new Error(`simulator answered ${response.statusCode}`);
        } finally {
          clearTimeout(timer);
        }
      },
    );
  } finally {
    await agent.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, perSecond: count / seconds, cpu: (cpu.user + cpu.system) / 1000 / (seconds * 1000) };
}
