import { request } from 'undici';
import { measureCpu } from './cpu.ts';
import { createDatabase } from './database.ts';
import { agent, startLandlordProcess } from './landlord.ts';
import { startBareServer } from './load.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { fmt, latencies, ratio } from './stats.ts';
import { seedUsage, type UsageSeed } from './usage-seed.ts';

/** How hard the usage scenario pushes. */
export interface UsageOptions {
  tenants: number;
  /** Batches sent per batch size (each of fresh events). */
  batches: Record<number, number>;
  /** Batches in flight at once. */
  inFlight: number;
}

const RATE_AIM = 0.5;
const EVENTS_AIM = 10_000;
const P99_AIM_MS = 300;

interface Run {
  eventsPerSecond: number;
  p50: number;
  p99: number;
  accepted: number;
  failed: number;
  /** The first few failures, as status and the start of the body: what failed, not only how many. */
  failures: string[];
  serverUs: number;
  postgresUs: number;
}

/** Runs the usage (ingestion) scenario and returns its part of the results. */
export async function runUsage(options: UsageOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('usage');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('usage', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const seed = await seedUsage(landlord.url, database.url, options.tenants);
    const bare = await startBareServer('bare-usage.ts', database.url);
    started.push(bare.process);
    log(`usage: ${options.tenants} tenants subscribed; measuring`);
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const results: { size: number; landlord: Run; bare: Run }[] = [];
    for (const [sizeText, count] of Object.entries(options.batches)) {
      const size = Number(sizeText);
      // Bare first, then Landlord (as every scenario does); fresh ids for each.
      const bareRun = await drive(
        bare.url,
        '/usage',
        bodies(seed, size, count, `bare${size}`, 'bare'),
        {},
        pids.bare,
        'bare',
        database.name,
        options,
      );
      const landlordRun = await drive(
        landlord.url,
        '/v1/usage',
        bodies(seed, size, count, `ll${size}`, 'landlord'),
        { authorization: seed.bearer },
        pids.landlord,
        'landlord',
        database.name,
        options,
      );
      log(`usage: batches of ${size}: Landlord ${fmt(landlordRun.eventsPerSecond, 0)} events/s, bare ${fmt(bareRun.eventsPerSecond, 0)}`);
      results.push({ size, landlord: landlordRun, bare: bareRun });
    }
    return report(options, results);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

/** Pre-serialised batch bodies, each for one tenant (at random) and of fresh ids, so building them is not measured. */
function bodies(seed: UsageSeed, size: number, count: number, prefix: string, shape: 'landlord' | 'bare'): string[] {
  const timestamp = new Date().toISOString();
  return Array.from({ length: count }, (_, batch) => {
    const tenant = seed.tenants[Math.floor(Math.random() * seed.tenants.length)] as UsageSeed['tenants'][number];
    const events = Array.from({ length: size }, (_, index) => ({
      id: `${prefix}-${batch}-${index}`,
      ...(shape === 'landlord' ? { tenant: tenant.name, feature: 'api_calls' } : {}),
      quantity: (index % 5) + 1,
      timestamp,
    }));
    return JSON.stringify(
      shape === 'landlord'
        ? { events }
        : { productId: seed.productId, tenantId: tenant.id, featureId: seed.featureId, windowStart: tenant.windowStart, events },
    );
  });
}

async function drive(
  url: string,
  path: string,
  batches: string[],
  headers: Record<string, string>,
  pid: number,
  server: string,
  database: string,
  options: UsageOptions,
): Promise<Run> {
  const cpu = await measureCpu({ [server]: pid }, database);
  const times: number[] = [];
  let accepted = 0;
  let failed = 0;
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < batches.length) {
      const body = batches[next++] as string;
      const sent = performance.now();
      const response = await request(`${url}${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      const answer = (await response.body.json()) as { data?: { accepted: number }; accepted?: number };
      times.push(performance.now() - sent);
      if (response.statusCode !== 200) {
        failed++;
        if (failures.length < 3) failures.push(`${server} ${response.statusCode} ${JSON.stringify(answer).slice(0, 300)}`);
      } else accepted += answer.data?.accepted ?? answer.accepted ?? 0;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, lane));
  const elapsed = (performance.now() - started) / 1000;
  const used = await cpu.stop();
  const { p50, p99 } = latencies(times);
  return {
    eventsPerSecond: accepted / elapsed,
    p50,
    p99,
    accepted,
    failed,
    failures,
    serverUs: ((used.processMs[server] ?? Number.NaN) * 1000) / accepted,
    postgresUs: (used.postgresMs * 1000) / accepted,
  };
}

function report(options: UsageOptions, results: { size: number; landlord: Run; bare: Run }[]): ScenarioReport {
  const rows: string[][] = [];
  const aims: Aim[] = [];
  for (const { size, landlord, bare } of results) {
    const rate = landlord.eventsPerSecond / bare.eventsPerSecond;
    const row = (label: string, a: number, b: number, digits: number, aim = '', met?: boolean) => [
      `batches of ${size} — ${label}`,
      fmt(a, digits),
      fmt(b, digits),
      ratio(a, b),
      aim,
      met === undefined ? '' : met ? 'met' : '**missed**',
    ];
    rows.push(
      row(
        'events/s',
        landlord.eventsPerSecond,
        bare.eventsPerSecond,
        0,
        `≥ ${RATE_AIM}× and ≥ ${fmt(EVENTS_AIM, 0)}`,
        rate >= RATE_AIM && landlord.eventsPerSecond >= EVENTS_AIM,
      ),
      row('p50 per batch, ms', landlord.p50, bare.p50, 1),
      row(
        'p99 per batch, ms',
        landlord.p99,
        bare.p99,
        1,
        size === 1000 ? `< ${P99_AIM_MS} ms` : '',
        size === 1000 ? landlord.p99 < P99_AIM_MS : undefined,
      ),
      row('server CPU per event, µs', landlord.serverUs, bare.serverUs, 1),
      row('PostgreSQL CPU per event, µs', landlord.postgresUs, bare.postgresUs, 1),
    );
    const why = `Landlord spends ${fmt(landlord.serverUs, 1)} µs of its own CPU per event (schema validation of every event, body hashes, windows from the calendar, outcomes) against ${fmt(bare.serverUs, 1)} µs for the bare server, and ${fmt(landlord.postgresUs, 1)} µs against ${fmt(bare.postgresUs, 1)} µs in PostgreSQL (the crossings insert and the resolution reads); on 2 shared cores that is what caps the rate.`;
    aims.push({
      what: `usage ingestion, batches of ${size}: ≥ ${RATE_AIM}× the bare ceiling (${rate.toFixed(2)}×)`,
      met: rate >= RATE_AIM,
      why,
    });
    aims.push({
      what: `usage ingestion, batches of ${size}: ≥ ${fmt(EVENTS_AIM, 0)} events/s (${fmt(landlord.eventsPerSecond, 0)})`,
      met: landlord.eventsPerSecond >= EVENTS_AIM,
      why,
    });
    if (size === 1000)
      aims.push({
        what: `usage ingestion: p99 per 1,000-event batch < ${P99_AIM_MS} ms (${fmt(landlord.p99, 0)} ms)`,
        met: landlord.p99 < P99_AIM_MS,
        why: `${options.inFlight} batches in flight on 2 shared cores: each waits for the others' CPU (bare p99 ${fmt(bare.p99, 0)} ms).`,
      });
  }
  const failures = results.reduce((sum, r) => sum + r.landlord.failed + r.bare.failed, 0);
  const markdown = [
    `### usage — ingestion of fresh events, ${options.tenants} tenants, ${options.inFlight} batches in flight`,
    '',
    `Landlord: \`POST /v1/usage\` with the product client's bearer token; each batch names one tenant (at random) and the metered feature, with fresh event ids: validation, tenant/feature/subscription resolution, windows, body hashes, then one statement inserting events and upserting totals and crossings. Bare: \`bench/bare-usage.ts\` (Fastify + pg, same database and pool size) running the same \`INSERT … ON CONFLICT DO NOTHING RETURNING\` feeding the totals upsert in one statement, told the tenant, feature and window. Batches: ${Object.entries(
      options.batches,
    )
      .map(([size, count]) => `${count} × ${size}`)
      .join(', ')}.`,
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    failures ? `${failures} batches failed: ${results.flatMap((r) => [...r.landlord.failures, ...r.bare.failures]).join('; ')}.` : '',
  ].join('\n');
  return { name: 'usage', markdown, aims };
}
