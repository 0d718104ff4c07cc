import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/config.ts';
import { withClient } from './database.ts';
import { CLI, freePort, ROOT, type Started, startNode, waitForHttp } from './processes.ts';

/** The admin key of every Landlord the bench starts. */
export const ADMIN_KEY = 'bench-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';
/** Landlord's default worker concurrency (the ceiling runs with the same). */
export const DEFAULT_WORKER_CONCURRENCY = loadConfig({}).workerConcurrency;
/** Where CPU profiles go when the bench runs with `--profile`. */
export const PROFILE_DIR = join(ROOT, 'bench', '.tmp', 'profiles');

/** A Landlord process the bench started. */
export interface BenchLandlord {
  process: Started;
  url: string;
}

/** Whether Landlord processes are started with `--cpu-prof` (set by `npm run bench -- --profile`). */
export const profiling = { enabled: false };

/**
 * Starts `node src/cli.ts start` as its own process on 127.0.0.1 and a free port and
 * waits for `/readyz`. Rate limiting is off and logging at warn, so neither is measured.
 */
export async function startLandlordProcess(label: string, env: Record<string, string>): Promise<BenchLandlord> {
  const port = await freePort();
  const nodeArgs: string[] = [];
  if (profiling.enabled) {
    await mkdir(PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`);
  }
  const started = startNode(`landlord (${label})`, CLI, {
    args: ['start'],
    nodeArgs,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LANDLORD_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      LANDLORD_RATE_LIMIT: '0',
      // The simulated backend listens on loopback.
      LANDLORD_EGRESS_ALLOW: '127.0.0.1',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(started, `${url}/readyz`, 120_000);
  return { process: started, url };
}

/** Keep-alive connections for the bench's own calls to the servers it started. */
export const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000, pipelining: 1 });

/** One JSON call; the body is parsed when it is JSON. */
export async function call(
  url: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const response = await request(`${url}${path}`, {
    method,
    dispatcher: agent,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.statusCode, body };
}

/** Like {@link call}, but anything other than `expected` is an error naming the answer. */
export async function expectCall(
  expected: number,
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<any> {
  const answer = await call(url, method, path, options);
  if (answer.status !== expected)
    throw new Error(`${method} ${path}: expected ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** `POST /v1/tenants` for one tenant, as a careful client sends it (with an Idempotency-Key); returns the ms it took. */
export async function createTenantThroughApi(url: string, product: string, name: string): Promise<number> {
  const started = performance.now();
  await expectCall(201, url, 'POST', '/v1/tenants', {
    token: ADMIN_KEY,
    headers: { 'idempotency-key': `create-${name}` },
    body: { product, name, displayName: `Tenant ${name}` },
  });
  return performance.now() - started;
}

/**
 * A product `bench` (creation requests not sent) with one tenant `bench-tenant` made live
 * in SQL, without a backend to create it. Call it before anything reads the tenant, so no
 * node has cached it otherwise.
 */
export async function seedLiveTenant(url: string, databaseUrl: string): Promise<void> {
  await expectCall(201, url, 'POST', '/v1/products', {
    token: ADMIN_KEY,
    body: { name: 'bench', displayName: 'Bench', provisioning: { autoSendCreation: false } },
  });
  await expectCall(201, url, 'POST', '/v1/tenants', {
    token: ADMIN_KEY,
    body: { product: 'bench', name: 'bench-tenant', displayName: 'Bench' },
  });
  await withClient(databaseUrl, (client) => client.query("update tenants set status = 'active' where name = 'bench-tenant'"));
}

/** Landlord's scavenges (V8's young-generation garbage collections) so far, from its `/metrics`. */
export interface Scavenges {
  count: number;
  seconds: number;
  /** How many took more than 10 ms (the histogram's bucket edge). */
  over10ms: number;
}

/** Reads {@link Scavenges} from a running Landlord: each one pauses its event loop, requests included. */
export async function scavengesOf(url: string): Promise<Scavenges> {
  const { body } = await call(url, 'GET', '/metrics', { token: ADMIN_KEY });
  const value = (pattern: RegExp) => Number(pattern.exec(String(body))?.[1] ?? Number.NaN);
  const count = value(/^landlord_nodejs_gc_duration_seconds_count\{kind="minor"\} (\S+)$/m);
  const upTo10ms = value(/^landlord_nodejs_gc_duration_seconds_bucket\{le="0\.01",kind="minor"\} (\S+)$/m);
  return { count, seconds: value(/^landlord_nodejs_gc_duration_seconds_sum\{kind="minor"\} (\S+)$/m), over10ms: count - upTo10ms };
}
