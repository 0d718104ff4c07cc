import { join } from 'node:path';
import { measureCpu } from './cpu.ts';
import { createDatabase, withClient } from './database.ts';
import { DEFAULT_WORKER_CONCURRENCY } from './landlord.ts';
import { ROOT, startNode, waitForOutput } from './processes.ts';
import type { Simulator } from './simulator-client.ts';
import { latencies } from './stats.ts';

/** How a batch of calls went: throughput and commit-to-arrival latency. */
export interface Flow {
  count: number;
  seconds: number;
  perSecond: number;
  /** Commit (or `tenants.created_at`) to the call's arrival at the backend, ms. */
  latency: { p50: number; p99: number; max: number };
  /** CPU per item, µs: the process doing the work, and PostgreSQL's backends. */
  workerUs: number;
  postgresUs: number;
}

/** How the ceiling's jobs are queued: no named queue, one per job (as Landlord: `tenant:<id>`), or N shared ones. */
export type Queues = 'none' | 'per-job' | number;

/**
 * The ceiling: `bench/bare-worker.ts` (graphile-worker's `run()`, Landlord's default
 * concurrency) works off `jobs` jobs added in one statement, each one POST to the
 * simulator. The queue variants show what graphile-worker's named queues cost.
 */
export async function runCeiling(simulator: Simulator, jobs: number, queues: Queues, localQueue = 0): Promise<Flow> {
  const database = await createDatabase('worker');
  const worker = startNode('bare-worker', join(ROOT, 'bench', 'bare-worker.ts'), {
    env: {
      DATABASE_URL: database.url,
      TARGET_URL: simulator.url,
      CONCURRENCY: String(DEFAULT_WORKER_CONCURRENCY),
      POLL_MS: '1000',
      LOCAL_QUEUE: String(localQueue),
    },
  });
  try {
    await waitForOutput(worker, /bare-worker ready/, 60_000);
    await simulator.reportTo(null, null);
    await simulator.reset();
    const cpu = await measureCpu({ worker: worker.pid }, database.name);
    const committedAt = await withClient(database.url, async (client) => {
      await client.query(
        `select count(*) from graphile_worker.add_jobs(array(
           select row('bench.call', json_build_object('name', 'c-' || i), case when $2 = 'per-job' then 'q-' || i when $3::int > 0 then 'q-' || (i % $3::int) end, null, null, null, null, null)::graphile_worker.job_spec
           from generate_series(1, $1::int) i))`,
        [jobs, String(queues), typeof queues === 'number' ? queues : 0],
      );
      return Date.now();
    });
    await simulator.waitForArrivals(jobs, 600_000, worker);
    const used = await cpu.stop();
    const { arrivals } = await simulator.arrivals();
    const waits = [...arrivals.values()].map((at) => at - committedAt);
    const seconds = Math.max(...waits) / 1000;
    return {
      count: jobs,
      seconds,
      perSecond: jobs / seconds,
      latency: latencies(waits),
      workerUs: ((used.processMs.worker ?? 0) * 1000) / jobs,
      postgresUs: (used.postgresMs * 1000) / jobs,
    };
  } finally {
    await worker.stop();
    await database.drop();
  }
}
