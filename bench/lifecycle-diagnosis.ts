import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { BenchDatabase } from './database.ts';
import { withClient } from './database.ts';
import { createTenantThroughApi, startLandlordProcess } from './landlord.ts';
import type { Started } from './processes.ts';
import {
  describeSql,
  type RoundTripCounter,
  rawStatements,
  startRoundTripCounter,
  statementsAcross,
  tally,
  tripsPer,
} from './round-trips.ts';
import type { Simulator } from './simulator-client.ts';

/** Round trips to PostgreSQL per tenant, by who makes them. */
export interface LifecycleTrips {
  /** `POST /v1/tenants` with the creation sent at once (on the API node). */
  post: number;
  /** The backend's `created` report (on the API node). */
  report: number;
  /** The call job, graphile-worker's own queries included (on the worker node). */
  job: number;
  apiStatements: string[];
  /** What the worker node sent while one tenant went through (background included): statement → times. */
  workerStatements: [string, number][];
  /** graphile-worker job fetches (`get_job`) per second of the worker node with nothing to do. */
  idleFetchesPerSecond: number;
  /** One of those fetches as PostgreSQL runs it with a job due (EXPLAIN ANALYZE, rolled back). */
  jobFetch?: JobFetch;
  /** Round trips per second of the worker node with nothing to do. */
  workerIdlePerSecond: number;
  /** What the worker node sent in 2 s with nothing to do: statement → how many times, most first. */
  workerIdleStatements: [string, number][];
}

const SEQUENTIAL = 50;
const IDLE_SAMPLE_MS = 2000;

/**
 * Splits Landlord into an API node and a worker node, each behind its own counting
 * proxy, and runs tenants one at a time through the whole creation: the API node's
 * trips are the POST and the report, the worker node's the call job.
 */
export async function diagnoseLifecycle(
  database: BenchDatabase,
  simulator: Simulator,
  token: string,
  product: string,
): Promise<LifecycleTrips> {
  const createTenant = (url: string, name: string) => createTenantThroughApi(url, product, name);
  const started: Started[] = [];
  try {
    const apiCounter: RoundTripCounter = await startRoundTripCounter();
    const workerCounter: RoundTripCounter = await startRoundTripCounter();
    started.push(apiCounter.process, workerCounter.process);
    const api = await startLandlordProcess('lifecycle-diagnosis-api', {
      DATABASE_URL: apiCounter.urlFor(database.name),
      LANDLORD_ROLE: 'api',
    });
    started.push(api.process);
    await simulator.reportTo(api.url, token);
    await simulator.reset();

    // With no worker yet, the POSTs alone (their jobs wait in the queue).
    const idleApi = await apiCounter.idleRate();
    for (let warm = 0; warm < 20; warm++) await createTenant(api.url, `dw-${warm}`);
    const post = await tripsPer(apiCounter, idleApi, 100, async (index) => void (await createTenant(api.url, `dp-${index}`)));

    const worker = await startLandlordProcess('lifecycle-diagnosis-worker', {
      DATABASE_URL: workerCounter.urlFor(database.name),
      LANDLORD_ROLE: 'worker',
    });
    started.push(worker.process);
    return await withClient(database.url, async (client) => {
      const activeCount = async (name: string) =>
        Number(
          (await client.query(`select count(*) from tenants where name like $1 and status = 'created_as_active'`, [name])).rows[0].count,
        );
      const waitActive = async (name: string, expected: number) => {
        for (let waited = 0; (await activeCount(name)) < expected; waited += 2) {
          if (waited > 120_000) throw new Error(`tenants ${name} not created_as_active`);
          await sleep(2);
        }
      };
      await waitActive('dp-%', 100);
      const lifecycle = async (name: string) => {
        await createTenant(api.url, name);
        await waitActive(name, 1);
      };
      for (let warm = 0; warm < 10; warm++) await lifecycle(`dx-${warm}`);

      const [idleApiNow, idleWorker] = await Promise.all([apiCounter.idleRate(), workerCounter.idleRate()]);
      const [apiBefore, workerBefore] = await Promise.all([apiCounter.counts(), workerCounter.counts()]);
      const begun = performance.now();
      for (let index = 0; index < SEQUENTIAL; index++) await lifecycle(`dl-${index}`);
      const elapsed = performance.now() - begun;
      const [apiAfter, workerAfter] = await Promise.all([apiCounter.counts(), workerCounter.counts()]);
      const perTenant = (after: number, before: number, idle: number) => (after - before - (idle * elapsed) / 1000) / SEQUENTIAL;
      const apiTrips = perTenant(apiAfter.roundTrips, apiBefore.roundTrips, idleApiNow);

      await sleep(300);
      const [apiStatements, workerStatements] = await statementsAcross([apiCounter, workerCounter], () => lifecycle('dl-recorded'), 300);
      const idleRaw = await rawStatements(workerCounter, () => sleep(IDLE_SAMPLE_MS));
      const idleStatements = idleRaw.map(describeSql);
      const fetchSql = idleRaw.find((text) => describeSql(text).startsWith('get_job'));
      const jobFetch = fetchSql ? await explainJobFetch(client, fetchSql).catch(() => undefined) : undefined;
      return {
        workerIdleStatements: tally(idleStatements),
        jobFetch,
        idleFetchesPerSecond: (idleStatements.filter((statement) => statement.startsWith('get_job')).length * 1000) / IDLE_SAMPLE_MS,
        post: post.trips,
        report: apiTrips - post.trips,
        job: perTenant(workerAfter.roundTrips, workerBefore.roundTrips, idleWorker),
        apiStatements: apiStatements ?? [],
        workerStatements: tally(workerStatements ?? []),
        workerIdlePerSecond: idleWorker,
      };
    });
  } finally {
    for (const process of started.reverse()) await process.stop();
  }
}

/** What one graphile-worker job fetch costs on the database as it is. */
export interface JobFetch {
  ms: number;
  /** The most rows one LockRows step locked (the named queues it locks up front). */
  lockedRows: number;
  /** Rows in the queue table and the job table. */
  queues: number;
  /** Jobs waiting in the table, by task. */
  jobs: [string, number][];
}

/**
 * EXPLAIN ANALYZE of graphile-worker's own fetch statement with one job due (added in the
 * same transaction, in a named queue as Landlord's are), all rolled back at once.
 */
async function explainJobFetch(client: pg.Client, text: string): Promise<JobFetch> {
  const jobs = await client.query<{ identifier: string; count: string }>(
    `select tasks.identifier, count(*) from graphile_worker._private_jobs jobs
     join graphile_worker._private_tasks tasks on tasks.id = jobs.task_id group by 1 order by 2 desc`,
  );
  await client.query('begin');
  try {
    await client.query(`select graphile_worker.add_job('bench.explain', '{}'::json, queue_name => 'bench-explain')`);
    const { rows: counts } = await client.query<{ queues: string; tasks: number[] }>(
      `select (select count(*) from graphile_worker._private_job_queues) as queues,
              (select array_agg(id) from graphile_worker._private_tasks) as tasks`,
    );
    const { rows } = await client.query(`explain (analyze, format json) ${text}`, ['bench-explain', counts[0]?.tasks ?? []]);
    const [plan] = rows[0]['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number }[];
    return {
      ms: plan?.['Execution Time'] ?? Number.NaN,
      lockedRows: plan ? mostLocked(plan.Plan) : 0,
      queues: Number(counts[0]?.queues),
      jobs: jobs.rows.map((job): [string, number] => [job.identifier, Number(job.count)]),
    };
  } finally {
    await client.query('rollback');
  }
}

interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function mostLocked(node: PlanNode): number {
  const own = node['Node Type'] === 'LockRows' ? (node['Actual Rows'] ?? 0) : 0;
  return Math.max(own, ...(node.Plans ?? []).map(mostLocked));
}
