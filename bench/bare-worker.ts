/**
 * The ceiling of the lifecycle scenario: a bare graphile-worker runner (the same `run()`
 * API and concurrency as Landlord's worker) whose one task makes the creation call
 * Landlord makes — a POST with undici to the simulated backend — and nothing else:
 * no tenant lookup, no transaction, no timeline.
 *
 * Run as its own process: DATABASE_URL, TARGET_URL, CONCURRENCY, POLL_MS, and LOCAL_QUEUE
 * (a size: the pool fetches jobs in batches instead of each worker fetching its own).
 * The bench adds the jobs (`bench.call`, payload `{ name }`) straight into the queue.
 */
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import { Agent, request } from 'undici';

const concurrency = Number(process.env.CONCURRENCY ?? 16);
const target = process.env.TARGET_URL ?? '';
// Landlord's pool size (LANDLORD_DATABASE_POOL_SIZE's default).
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 40),
  application_name: 'bench-bare-worker',
});
pool.on('error', () => {});
// Landlord's outbound agent settings.
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, pipelining: 1 });
const quiet = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`${message}\n`);
});

const localQueue = Number(process.env.LOCAL_QUEUE ?? 0);
const runner = await run({
  pgPool: pool,
  ...(localQueue > 0 ? { preset: { worker: { localQueue: { size: localQueue } } } } : {}),
  concurrency,
  pollInterval: Number(process.env.POLL_MS ?? 1000),
  noHandleSignals: true,
  logger: quiet,
  taskList: {
    'bench.call': async (payload) => {
      const { name } = payload as { name: string };
      const response = await request(`${target}/api/integration/${encodeURIComponent(name)}/creation`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Landlord/0.1',
          'idempotency-key': name,
          'x-landlord-event': 'creation',
        },
        body: JSON.stringify({ tenantName: name }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await response.body.text();
      if (response.statusCode >= 300) throw new Error(`backend answered ${response.statusCode}`);
    },
  },
});

const stop = () => {
  runner
    .stop()
    .then(() => pool.end())
    .then(() => agent.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write('bare-worker ready\n');
