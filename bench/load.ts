import { join } from 'node:path';
import autocannon, { type Request } from 'autocannon';
import { loadConfig } from '../src/config/config.ts';
import { measureCpu, transactionsIn } from './cpu.ts';
import { freePort, ROOT, type Started, startNode, waitForHttp } from './processes.ts';

/** One measured autocannon run: rate, latency, and CPU per successful request. */
export interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  /** Successful requests of the warm-up before the measured run. */
  warmupOk: number;
  failed: number;
  /** CPU per successful request, µs. */
  serverUs: number;
  postgresUs: number;
  benchUs: number;
}

/**
 * Warms a server up, then drives it with autocannon for `durationS` while measuring
 * the CPU of `pids` (the server under test) and of `database`'s PostgreSQL backends.
 */
export async function measureLoad(
  url: string,
  server: string,
  make: () => Request,
  pids: Record<string, number>,
  database: string,
  options: { connections: number; warmupS: number; durationS: number },
): Promise<Load> {
  const requests = [{ ...make(), setupRequest: () => make() }];
  const warmup = await autocannon({ url, connections: options.connections, duration: options.warmupS, requests });
  const cpu = await measureCpu(pids, database);
  const result = await autocannon({ url, connections: options.connections, duration: options.durationS, requests });
  const used = await cpu.stop();
  const ok = result['2xx'];
  const perRequest = (ms: number) => (ok > 0 ? (ms * 1000) / ok : Number.NaN);
  return {
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    warmupOk: warmup['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    serverUs: perRequest(used.processMs[server] ?? Number.NaN),
    postgresUs: perRequest(used.postgresMs),
    benchUs: perRequest(used.benchMs),
  };
}

/** Starts a bare ceiling server (`bench/<script>`) on the same database, with Landlord's default pool size. */
export async function startBareServer(script: string, databaseUrl: string): Promise<{ process: Started; url: string }> {
  const port = await freePort();
  const process = startNode(script.replace(/\.ts$/, ''), join(ROOT, 'bench', script), {
    env: { DATABASE_URL: databaseUrl, PORT: String(port), POOL_SIZE: String(loadConfig({}).databasePoolSize) },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(process, `${url}/readyz`);
  return { process, url };
}

/**
 * Runs a load and counts PostgreSQL transactions per successful request over it (warm-up included; a statement
 * outside a transaction is one). Background sweeps count too, so it is an upper bound.
 */
export async function withTransactions(database: string, run: () => Promise<Load>): Promise<Load & { transactions: number }> {
  // PostgreSQL publishes its counts about once a second.
  const settled = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return transactionsIn(database);
  };
  const before = await settled();
  const load = await run();
  return { ...load, transactions: ((await settled()) - before) / Math.max(1, load.warmupOk + load.ok) };
}
