import type { Request } from 'autocannon';
import { createDatabase } from './database.ts';
import { compareEndpoint } from './endpoint-report.ts';
import { ADMIN_KEY, call, expectCall, seedLiveTenant, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer } from './load.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { startRoundTripCounter, tripsPer } from './round-trips.ts';
import { fmt, p99Why, versusRow } from './stats.ts';

/** How hard and how long the verify scenario pushes. */
export interface VerifyOptions {
  /** Connection credentials created, verified at random. */
  credentials: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const RATE_AIM = 0.6;
const P99_AIM_MS = 10;

/** Runs the verify scenario and returns its part of the results. */
export async function runVerify(options: VerifyOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('verify');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('verify', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const token = { token: ADMIN_KEY };
    await seedLiveTenant(landlord.url, database.url);
    const credentials: { id: string; secret: string }[] = [];
    for (let index = 0; index < options.credentials; index++) {
      const created = await expectCall(201, landlord.url, 'POST', '/v1/tenants/bench-tenant/connections', {
        ...token,
        body: { name: `API ${index}`, type: 'api', configuration: { shop: index } },
      });
      credentials.push({ id: created.data.id, secret: created.data.secret });
    }
    // The product's backend calls with its own client token, as in production.
    const client = await expectCall(201, landlord.url, 'POST', '/v1/products/bench/clients', { ...token, body: { name: 'backend' } });
    const issued = await expectCall(200, landlord.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'client_credentials', client_id: client.data.clientId, client_secret: client.data.clientSecret },
    });
    const bearer = `Bearer ${issued.access_token}`;
    const bare = await startBareServer('bare-verify.ts', database.url);
    started.push(bare.process);
    log(`verify: ${options.credentials} connections created; measuring`);

    const body = () => JSON.stringify(credentials[Math.floor(Math.random() * credentials.length)]);
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const json = { 'content-type': 'application/json' };
    const load = (url: string, server: 'landlord' | 'bare', make: () => Request) =>
      measureLoad(url, server, make, pids, database.name, options);
    // Bare first, then Landlord.
    const bareLoad = await load(bare.url, 'bare', () => ({ method: 'POST', path: '/connections/verify', headers: json, body: body() }));
    const landlordLoad = await load(landlord.url, 'landlord', () => ({
      method: 'POST',
      path: '/v1/connections/verify',
      headers: { ...json, authorization: bearer },
      body: body(),
    }));

    await landlord.process.stop();
    await bare.process.stop();
    log('verify: counting round trips');
    const trips = await roundTrips(database.name, credentials, bearer);
    return report(options, { landlord: landlordLoad, bare: bareLoad }, trips);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

/** Round trips to PostgreSQL per verification, one at a time after a warm-up, through the counting proxy. */
async function roundTrips(database: string, credentials: { id: string; secret: string }[], bearer: string) {
  const counter = await startRoundTripCounter();
  const started: Started[] = [counter.process];
  try {
    const landlord = await startLandlordProcess('verify-diagnosis', { DATABASE_URL: counter.urlFor(database) });
    started.push(landlord.process);
    const bare = await startBareServer('bare-verify.ts', counter.urlFor(database));
    started.push(bare.process);
    const idle = await counter.idleRate();
    const pick = (index: number) => credentials[index % credentials.length] as { id: string; secret: string };
    const verifyAt = (url: string, path: string, headers: Record<string, string>) => async (index: number) => {
      const answer = await call(url, 'POST', path, { body: pick(index), headers });
      if (answer.status !== 200 || !answer.body) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    const viaLandlord = verifyAt(landlord.url, '/v1/connections/verify', { authorization: bearer });
    const viaBare = verifyAt(bare.url, '/connections/verify', {});
    // Warm: every credential seen once, as in steady state.
    for (let index = 0; index < credentials.length; index++) await viaLandlord(index);
    // Less the background rate, a cached verification can come out a hair below zero.
    return {
      landlord: Math.max(0, (await tripsPer(counter, idle, 200, viaLandlord)).trips),
      bare: Math.max(0, (await tripsPer(counter, idle, 200, viaBare)).trips),
    };
  } finally {
    for (const process of started.reverse()) await process.stop();
  }
}

function report(
  options: VerifyOptions,
  load: Record<'landlord' | 'bare', Load>,
  trips: { landlord: number; bare: number },
): ScenarioReport {
  const { rate, rateMet, p99Met, rows: endpoint } = compareEndpoint('verify', load, { rate: RATE_AIM, p99Ms: P99_AIM_MS });
  const rows = [...endpoint, versusRow('round trips to PostgreSQL (warm)', trips.landlord, trips.bare, 2)];
  const failures = load.landlord.failed + load.bare.failed;
  const why = `each verification costs ${fmt(load.landlord.serverUs, 0)} µs of Landlord CPU against ${fmt(load.bare.serverUs, 0)} µs for the bare server (bearer token check, body and response schemas, hooks); on 2 shared cores that CPU is what caps the rate.`;
  const aims: Aim[] = [
    { what: `POST /v1/connections/verify ≥ ${RATE_AIM}× bare req/s (${rate.toFixed(2)}×)`, met: rateMet, why },
    {
      what: `POST /v1/connections/verify p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(load.landlord.p99, 1)} ms)`,
      met: p99Met,
      why: p99Why(options.connections, P99_AIM_MS, load),
    },
  ];
  const markdown = [
    `### verify — ${options.credentials} connections of one live tenant, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    'Landlord: `node src/cli.ts start` (rate limit off, log level warn); each request carries a product client’s bearer token and a random `{ id, secret }`; the answer is the tenant, the connection and its permissions. Verification is served from a per-node cache: a connection change clears it through NOTIFY, an event about a tenant (a status change among them) drops that tenant’s connections. Bare: `bench/bare-verify.ts` (Fastify + pg, same database and pool size, one `select … from connections join tenants where id = $1` and a constant-time SHA-256 comparison, no auth).',
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `Round trips counted by \`bench/pg-counter.ts\` over 200 verifications one at a time, after each credential was verified once.${failures ? ` ${failures} requests failed or timed out.` : ''}`,
    '',
  ].join('\n');
  return { name: 'verify', markdown, aims };
}
