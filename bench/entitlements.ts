import { createDatabase } from './database.ts';
import { compareEndpoint } from './endpoint-report.ts';
import { ADMIN_KEY, expectCall, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer } from './load.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { fmt, p99Why } from './stats.ts';
import { seedUsage } from './usage-seed.ts';

/** How hard and how long the entitlements scenario pushes. */
export interface EntitlementsOptions {
  tenants: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const RATE_AIM = 1;
const P99_AIM_MS = 5;

/** Runs the entitlements (check) scenario and returns its part of the results. */
export async function runEntitlements(options: EntitlementsOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('entitlements');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('entitlements', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const seed = await seedUsage(landlord.url, database.url, options.tenants);
    // Every tenant has used something, so the bare select finds a total.
    for (const tenant of seed.tenants) {
      await expectCall(200, landlord.url, 'POST', '/v1/usage', {
        token: ADMIN_KEY,
        body: {
          product: 'bench',
          events: [
            { id: `seed-${tenant.name}`, tenant: tenant.name, feature: 'api_calls', quantity: 7, timestamp: new Date().toISOString() },
          ],
        },
      });
    }
    const bare = await startBareServer('bare-usage.ts', database.url);
    started.push(bare.process);
    log(`entitlements: ${options.tenants} tenants with usage; measuring`);
    const pick = () => seed.tenants[Math.floor(Math.random() * seed.tenants.length)] as (typeof seed.tenants)[number];
    const json = { 'content-type': 'application/json' };
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const bareLoad = await measureLoad(
      bare.url,
      'bare',
      () => ({
        method: 'POST',
        path: '/check',
        headers: json,
        body: JSON.stringify({ tenantId: pick().id, featureId: seed.featureId, quantity: 1 }),
      }),
      pids,
      database.name,
      options,
    );
    const floorLoad = await measureLoad(
      bare.url,
      'bare',
      () => ({ method: 'POST', path: '/constant', headers: json, body: '{"quantity":1}' }),
      pids,
      database.name,
      options,
    );
    const landlordLoad = await measureLoad(
      landlord.url,
      'landlord',
      () => ({
        method: 'POST',
        path: `/v1/tenants/${pick().name}/entitlements/api_calls/check`,
        headers: { ...json, authorization: seed.bearer },
        body: '{"quantity":1}',
      }),
      pids,
      database.name,
      options,
    );
    return report(options, { landlord: landlordLoad, bare: bareLoad }, floorLoad);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

function report(options: EntitlementsOptions, load: Record<'landlord' | 'bare', Load>, floor: Load): ScenarioReport {
  const { rate, rateMet, p99Met, rows } = compareEndpoint('check', load, { rate: RATE_AIM, p99Ms: P99_AIM_MS });
  const failures = load.landlord.failed + load.bare.failed + floor.failed;
  const floorRows = [
    ['floor: a Fastify route answering from constants — req/s', fmt(floor.perSecond, 0), '', '', '', ''],
    ['floor — p50 / p99 latency, ms', `${fmt(floor.p50, 1)} / ${fmt(floor.p99, 1)}`, '', '', '', ''],
    ['floor — server CPU per request, µs', fmt(floor.serverUs, 0), '', '', '', ''],
  ];
  const floorWhy = `A Fastify route that answers from constants, under the same load in this run: ${fmt(floor.perSecond, 0)} req/s, p99 ${fmt(floor.p99, 1)} ms, ${fmt(floor.serverUs, 0)} µs of CPU per request; Landlord's check spends ${fmt(load.landlord.serverUs - floor.serverUs, 0)} µs more (bearer token, route schemas, hooks, envelope).`;
  const why = `Landlord answers from memory but spends ${fmt(load.landlord.serverUs, 0)} µs of its CPU per check (bearer token, schemas, hooks, the answer) against ${fmt(load.bare.serverUs, 0)} µs for the bare server plus ${fmt(load.bare.postgresUs, 0)} µs of PostgreSQL per select; on 2 shared cores the sum is what caps the rate.`;
  const aims: Aim[] = [
    { what: `POST …/entitlements/{feature}/check ≥ ${RATE_AIM}× the bare select (${rate.toFixed(2)}×)`, met: rateMet, why },
    {
      what: `POST …/entitlements/{feature}/check p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(load.landlord.p99, 1)} ms)`,
      met: p99Met,
      why: `${p99Why(options.connections, P99_AIM_MS, load)} ${floorWhy}`,
    },
  ];
  const markdown = [
    `### entitlements — ${options.tenants} tenants, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    "Landlord: `POST /v1/tenants/{tenant}/entitlements/api_calls/check {quantity: 1}` for a random tenant with the product client's bearer token, answered from the node's entitlements cache (invalidated through NOTIFY). Bare: `bench/bare-usage.ts` `POST /check` (Fastify + pg, same database and pool size): one select of the tenant's latest total joined to its plan's limit, the same comparison, no auth. Floor: the same server's `POST /constant`, a check's answer from constants (no database, nothing worked out), the least any check costs on this machine.",
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], [...rows, ...floorRows]),
    '',
    failures ? `${failures} requests failed or timed out.` : '',
  ].join('\n');
  return { name: 'entitlements', markdown, aims };
}
