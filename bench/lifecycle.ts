/**
 * lifecycle: tenants created through the API for a product in callback mode whose
 * backend (the simulator) answers 200 and reports `created` at once, until every one
 * is `created_as_active` — beside a bare graphile-worker making the same calls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { measureCpu } from './cpu.ts';
import { type BenchDatabase, createDatabase, waitForConnections, withClient } from './database.ts';
import {
  ADMIN_KEY,
  type BenchLandlord,
  createTenantThroughApi,
  DEFAULT_WORKER_CONCURRENCY,
  expectCall,
  startLandlordProcess,
} from './landlord.ts';
import { type Flow, type Queues, runCeiling } from './lifecycle-ceiling.ts';
import { diagnoseLifecycle, type LifecycleTrips } from './lifecycle-diagnosis.ts';
import { reportLifecycle, type Variant } from './lifecycle-report.ts';
import type { Started } from './processes.ts';
import type { ScenarioReport } from './report.ts';
import { type Simulator, startSimulator } from './simulator-client.ts';
import { inParallel, latencies } from './stats.ts';

/** The sizes of the lifecycle scenario. */
export interface LifecycleOptions {
  tenants: number;
  inFlight: number;
  pacedRate: number;
  pacedSeconds: number;
}

/** The paced run: a steady rate of creations and how quickly each call followed. */
export interface Paced {
  offered: number;
  achieved: number;
  count: number;
  api: { p50: number; p99: number; max: number };
  latency: { p50: number; p99: number; max: number };
  /** From the last POST's answer until the last call arrived, ms. */
  drainMs: number;
}

/** Landlord doing nothing, after the runs: the share of a core it and its PostgreSQL backends still use. */
export interface Idle {
  landlordShare: number;
  postgresShare: number;
  queueRows: number;
}

const IDLE_MS = 5000;
// Landlord's pool (worker concurrency + 20), its listener, and the bench's own.
const CONNECTIONS_NEEDED = DEFAULT_WORKER_CONCURRENCY + 30;

/** What the burst adds to a {@link Flow}: how long the POSTs took and how they answered. */
export interface Burst extends Flow {
  postSeconds: number;
  api: { p50: number; p99: number; max: number };
  reportsFailed: number;
  /** Rows in graphile-worker's queue table once all were created (one per tenant with a call, until the daily clean-up). */
  queueRows: number;
}

const PRODUCT = 'bench';
/** The bare worker again, with a named queue per job (one per tenant, the costly way) and two ways that cost less. */
const VARIANTS: { label: string; queues: Queues; localQueue?: number }[] = [
  { label: 'a named queue per job (one per tenant)', queues: 'per-job' },
  {
    label: `a named queue per job, pool fetching in batches (localQueue ${DEFAULT_WORKER_CONCURRENCY + 1})`,
    queues: 'per-job',
    localQueue: DEFAULT_WORKER_CONCURRENCY + 1,
  },
  { label: '64 shared named queues (job number mod 64)', queues: 64 },
];
const createTenant = (url: string, name: string) => createTenantThroughApi(url, PRODUCT, name);

/** Runs the lifecycle scenario and returns its part of the results. */
export async function runLifecycle(options: LifecycleOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const simulator = await startSimulator();
  const started: Started[] = [simulator.process];
  let database: BenchDatabase | undefined;
  try {
    log(`lifecycle: ceiling — bare graphile-worker, ${options.tenants} jobs`);
    await waitForConnections(CONNECTIONS_NEEDED, log);
    const ceiling = await runCeiling(simulator, options.tenants, 'none');
    const variants: Variant[] = [];
    for (const variant of VARIANTS) {
      log(`lifecycle: bare worker, ${variant.label}`);
      await waitForConnections(CONNECTIONS_NEEDED, log);
      variants.push({ label: variant.label, flow: await runCeiling(simulator, options.tenants, variant.queues, variant.localQueue) });
    }

    await waitForConnections(CONNECTIONS_NEEDED, log);
    database = await createDatabase('lifecycle');
    const landlord = await startLandlordProcess('lifecycle', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const token = await wireProduct(landlord, simulator);
    await simulator.reportTo(landlord.url, token);

    const db = database;
    const burst = await withClient(db.url, async (client) => {
      log('lifecycle: warm-up');
      await createMany(landlord, 'warm', Math.min(500, options.tenants), options.inFlight);
      await waitActive(client, 'warm', Math.min(500, options.tenants), 120_000);
      log(`lifecycle: ${options.tenants} tenants, ${options.inFlight} in flight`);
      return runBurst(landlord, simulator, client, db, options);
    });
    log(`lifecycle: paced, ${options.pacedRate} tenants/s for ${options.pacedSeconds} s`);
    const paced = await withClient(db.url, (client) => runPaced(landlord, simulator, client, options));

    log('lifecycle: idle');
    const idleUsed = await measureCpu({ landlord: landlord.process.pid }, db.name);
    await sleep(IDLE_MS);
    const used = await idleUsed.stop();
    const idle: Idle = {
      landlordShare: (used.processMs.landlord ?? 0) / used.wallMs,
      postgresShare: used.postgresMs / used.wallMs,
      queueRows: await withClient(db.url, async (client) =>
        Number((await client.query('select count(*) from graphile_worker._private_job_queues')).rows[0].count),
      ),
    };

    await landlord.process.stop();
    log('lifecycle: counting round trips');
    const trips: LifecycleTrips = await diagnoseLifecycle(db, simulator, token, PRODUCT);
    return reportLifecycle(options, {
      ceiling,
      variants,
      idle,
      burst,
      paced,
      trips,
      concurrency: DEFAULT_WORKER_CONCURRENCY,
    });
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database?.drop();
  }
}

/** Creates the product (callback mode, creation sent at once), a client, and logs the client in the RoSaaS way. */
async function wireProduct(landlord: BenchLandlord, simulator: Simulator): Promise<string> {
  const events = ['creation', 'activation', 'deactivation', 'deletion', 'unavailable', 'upgrade', 'downgrade', 'reset'];
  await expectCall(201, landlord.url, 'POST', '/v1/products', {
    token: ADMIN_KEY,
    body: {
      name: PRODUCT,
      displayName: 'Bench',
      apiKey: 'bench-backend-api-key-0123456789',
      webhooks: Object.fromEntries(events.map((event) => [event, `${simulator.url}/api/integration/{name}/${event}`])),
      provisioning: { mode: 'callback', autoSendCreation: true },
    },
  });
  const client = await expectCall(201, landlord.url, 'POST', `/v1/products/${PRODUCT}/clients`, {
    token: ADMIN_KEY,
    body: { name: 'backend' },
  });
  const { clientId, clientSecret } = client.data;
  const auth = await expectCall(200, landlord.url, 'POST', '/api/identity/apps/v1/auth', { body: { clientId, clientSecret } });
  return auth.data.token.accessToken;
}

async function createMany(landlord: BenchLandlord, prefix: string, count: number, inFlight: number): Promise<number[]> {
  const took: number[] = [];
  const names = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  await inParallel(names, inFlight, async (name) => void took.push(await createTenant(landlord.url, name)));
  return took;
}

async function countActive(client: pg.Client, prefix: string): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    `select count(*) from tenants where status = 'created_as_active' and name like $1`,
    [`${prefix}-%`],
  );
  return Number(rows[0]?.count ?? 0);
}

async function waitActive(client: pg.Client, prefix: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const active = await countActive(client, prefix);
    if (active >= expected) return;
    if (Date.now() > deadline)
      throw new Error(`only ${active} of ${expected} "${prefix}" tenants created_as_active within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Commit (`tenants.created_at`) to the creation call's arrival at the backend, per tenant, ms. */
async function callDelays(client: pg.Client, simulator: Simulator, prefix: string): Promise<number[]> {
  const { arrivals } = await simulator.arrivals();
  const { rows } = await client.query<{ name: string; created_ms: number }>(
    'select name, extract(epoch from created_at) * 1000 as created_ms from tenants where name like $1',
    [`${prefix}-%`],
  );
  return rows.flatMap((row) => {
    const at = arrivals.get(row.name);
    return at === undefined ? [] : [at - Number(row.created_ms)];
  });
}

async function runBurst(
  landlord: BenchLandlord,
  simulator: Simulator,
  client: pg.Client,
  database: BenchDatabase,
  options: LifecycleOptions,
): Promise<Burst> {
  await simulator.reset();
  const cpu = await measureCpu({ landlord: landlord.process.pid }, database.name);
  const started = Date.now();
  const took = await createMany(landlord, 'b', options.tenants, options.inFlight);
  const posted = Date.now();
  await waitActive(client, 'b', options.tenants, 900_000);
  const seconds = (Date.now() - started) / 1000;
  const used = await cpu.stop();
  const { reportsFailed } = await simulator.arrivals();
  const delays = await callDelays(client, simulator, 'b');
  const { rows } = await client.query<{ count: string }>('select count(*) from graphile_worker._private_job_queues');
  return {
    count: options.tenants,
    seconds,
    perSecond: options.tenants / seconds,
    postSeconds: (posted - started) / 1000,
    api: latencies(took),
    latency: latencies(delays),
    workerUs: ((used.processMs.landlord ?? 0) * 1000) / options.tenants,
    postgresUs: (used.postgresMs * 1000) / options.tenants,
    reportsFailed,
    queueRows: Number(rows[0]?.count ?? 0),
  };
}

async function runPaced(landlord: BenchLandlord, simulator: Simulator, client: pg.Client, options: LifecycleOptions): Promise<Paced> {
  await simulator.reset();
  const total = options.pacedRate * options.pacedSeconds;
  const took: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  // Open loop: each creation is sent at its time whether or not earlier ones have been answered.
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.pacedRate) + 1);
    for (; sent < due; sent++) pending.push(createTenant(landlord.url, `p-${sent}`).then((ms) => void took.push(ms)));
    await sleep(2);
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  const answered = Date.now();
  await simulator.waitForArrivals(total, 300_000, landlord.process);
  const drainMs = Date.now() - answered;
  await waitActive(client, 'p', total, 300_000);
  return {
    offered: options.pacedRate,
    achieved: total / sendSeconds,
    count: total,
    api: latencies(took),
    latency: latencies(await callDelays(client, simulator, 'p')),
    drainMs,
  };
}
