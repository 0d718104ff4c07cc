import type { Request } from 'autocannon';
import { createDatabase, waitForConnections, withClient } from './database.ts';
import { ADMIN_KEY, call, DEFAULT_WORKER_CONCURRENCY, expectCall, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer } from './load.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { planAndRun, type RoundTripCounter, type Statements, startRoundTripCounter, statementsOf, tripsPer } from './round-trips.ts';
import { fmt, versusRow } from './stats.ts';

/** How hard and how long the api scenario pushes. */
export interface ApiOptions {
  seed: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const READ_AIM = 0.6;
// One server's pool at a time (Landlord: worker concurrency + 20) and a few more.
const CONNECTIONS_NEEDED = DEFAULT_WORKER_CONCURRENCY + 30;
const WRITE_AIM = 0.5;

/** Runs the api scenario and returns its part of the results. */
export async function runApi(options: ApiOptions, log: (line: string) => void): Promise<ScenarioReport> {
  await waitForConnections(CONNECTIONS_NEEDED, log);
  const database = await createDatabase('api');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('api', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const product = await expectCall(201, landlord.url, 'POST', '/v1/products', {
      token: ADMIN_KEY,
      body: { name: 'bench', displayName: 'Bench', provisioning: { autoSendCreation: false } },
    });
    const productId: string = product.data.id;
    await withClient(database.url, async (client) => {
      await client.query(
        `insert into tenants (id, product_id, name, display_name)
         select gen_random_uuid(), $1, 'seed-' || i, 'Seed tenant ' || i from generate_series(1, $2::int) i`,
        [productId, options.seed],
      );
      await client.query('vacuum analyze tenants');
    });
    const bare = await startBareServer('bare-server.ts', database.url);
    started.push(bare.process);
    log(`api: ${options.seed} tenants seeded; measuring reads and writes`);

    const seedName = () => `seed-${1 + Math.floor(Math.random() * options.seed)}`;
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    let written = 0;
    const readLandlord: Request = { method: 'GET', path: '/v1/tenants/seed-1', headers: auth };
    const readBare: Request = { method: 'GET', path: '/tenants/seed-1', headers: {} };
    const writeLandlord = () => {
      const name = `wl-${++written}`;
      return {
        method: 'POST',
        path: '/v1/tenants',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `bench-${name}` },
        body: JSON.stringify({ product: 'bench', name, displayName: `Tenant ${name}` }),
      };
    };
    const writeBare = () => {
      const name = `wb-${++written}`;
      return {
        method: 'POST',
        path: '/tenants',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId, name, displayName: `Tenant ${name}` }),
      };
    };

    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const load = (url: string, server: 'landlord' | 'bare', make: () => Request) =>
      measureLoad(url, server, make, pids, database.name, options);
    // The bare server first, then stopped, so that the two pools never hold connections at
    // once on a server shared with other test runs. Its inserts make the table a little
    // bigger for Landlord's runs, which a lookup by a unique name does not notice.
    const bareRead = await load(bare.url, 'bare', () => ({ ...readBare, path: `/tenants/${seedName()}` }));
    const bareWrite = await load(bare.url, 'bare', writeBare);
    await bare.process.stop();
    const landlordRead = await load(landlord.url, 'landlord', () => ({ ...readLandlord, path: `/v1/tenants/${seedName()}` }));
    const landlordWrite = await load(landlord.url, 'landlord', writeLandlord);
    const reads = { bare: bareRead, landlord: landlordRead };
    const writes = { bare: bareWrite, landlord: landlordWrite };

    // Diagnostics, never while measuring: round trips and statements of one request each.
    await landlord.process.stop();
    log('api: counting round trips');
    const diagnosis = await diagnose(database.name, productId, seedName);

    return report(options, reads, writes, diagnosis);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

interface Diagnosis {
  landlord: { read: Trips; write: Trips };
  bare: { read: Trips; write: Trips };
  /** What PostgreSQL reports for the read's one statement (EXPLAIN ANALYZE, median), if it could be explained. */
  readPlan?: { landlord: Plan; bare: Plan };
}
interface Trips {
  trips: number;
  latencyMs: number;
  statements: Statements;
}
type Plan = { planningMs: number; executionMs: number };

const BARE_SELECT = 'select * from tenants where name = $1';

/** Round trips per request and the statements of one, through the counting proxy. */
async function diagnose(database: string, productId: string, seedName: () => string): Promise<Diagnosis> {
  const counter: RoundTripCounter = await startRoundTripCounter();
  const started: Started[] = [counter.process];
  let n = 0;
  const measure = async (idle: number, operation: () => Promise<void>): Promise<Trips> => {
    for (let warm = 0; warm < 20; warm++) await operation();
    const per = await tripsPer(counter, idle, 200, operation);
    return { trips: per.trips, latencyMs: per.latencyMs, statements: await statementsOf(counter, operation, 300) };
  };
  try {
    // The bare server alone first: it has no background work, so nothing needs subtracting.
    const bare = await startBareServer('bare-server.ts', counter.urlFor(database));
    started.push(bare.process);
    const bareResult = {
      read: await measure(0, async () => void (await expectCall(200, bare.url, 'GET', `/tenants/${seedName()}`))),
      write: await measure(0, async () => {
        const name = `db-${++n}`;
        const answer = await call(bare.url, 'POST', '/tenants', { body: { productId, name, displayName: name } });
        if (answer.status !== 201) throw new Error(`bare insert: ${answer.status}`);
      }),
    };
    await bare.process.stop();

    // An API-only node: the request path alone, without the worker's polling and background features.
    const landlord = await startLandlordProcess('api-diagnosis', { DATABASE_URL: counter.urlFor(database), LANDLORD_ROLE: 'api' });
    started.push(landlord.process);
    const idle = await counter.idleRate();
    const token = ADMIN_KEY;
    const landlordResult = {
      read: await measure(idle, async () => void (await expectCall(200, landlord.url, 'GET', `/v1/tenants/${seedName()}`, { token }))),
      write: await measure(idle, async () => {
        const name = `dl-${++n}`;
        await expectCall(201, landlord.url, 'POST', '/v1/tenants', {
          token,
          headers: { 'idempotency-key': `bench-${name}` },
          body: { product: 'bench', name, displayName: name },
        });
      }),
    };
    const [readStatement] = landlordResult.read.statements.raw;
    const name = seedName();
    const readPlan =
      landlordResult.read.statements.raw.length === 1 && readStatement
        ? await Promise.all([
            planAndRun(counter.urlFor(database), readStatement, [name]),
            planAndRun(counter.urlFor(database), BARE_SELECT, [name]),
          ])
            .then(([landlord, bare]) => ({ landlord, bare }))
            .catch(() => undefined)
        : undefined;
    return { landlord: landlordResult, bare: bareResult, readPlan };
  } finally {
    for (const process of started.reverse()) await process.stop();
  }
}

function report(
  options: ApiOptions,
  reads: Record<'landlord' | 'bare', Load>,
  writes: Record<'landlord' | 'bare', Load>,
  d: Diagnosis,
): ScenarioReport {
  const readRatio = reads.landlord.perSecond / reads.bare.perSecond;
  const writeRatio = writes.landlord.perSecond / writes.bare.perSecond;
  const rows = [
    versusRow('GET by name — req/s', reads.landlord.perSecond, reads.bare.perSecond, 0, `≥ ${READ_AIM}×`, readRatio >= READ_AIM),
    versusRow('GET — p50 latency, ms', reads.landlord.p50, reads.bare.p50, 1),
    versusRow('GET — p99 latency, ms', reads.landlord.p99, reads.bare.p99, 1),
    versusRow('POST insert — req/s', writes.landlord.perSecond, writes.bare.perSecond, 0, `≥ ${WRITE_AIM}×`, writeRatio >= WRITE_AIM),
    versusRow('POST — p50 latency, ms', writes.landlord.p50, writes.bare.p50, 1),
    versusRow('POST — p99 latency, ms', writes.landlord.p99, writes.bare.p99, 1),
  ];
  const costRow = (label: string, landlord: number, bare: number, digits: number) => versusRow(label, landlord, bare, digits).slice(0, 4);
  const cost = [
    costRow('GET — server CPU per request, µs', reads.landlord.serverUs, reads.bare.serverUs, 0),
    costRow('GET — PostgreSQL CPU per request, µs', reads.landlord.postgresUs, reads.bare.postgresUs, 0),
    costRow('GET — round trips to PostgreSQL', d.landlord.read.trips, d.bare.read.trips, 1),
    costRow('GET — one at a time, ms', d.landlord.read.latencyMs, d.bare.read.latencyMs, 2),
    costRow('POST — server CPU per request, µs', writes.landlord.serverUs, writes.bare.serverUs, 0),
    costRow('POST — PostgreSQL CPU per request, µs', writes.landlord.postgresUs, writes.bare.postgresUs, 0),
    costRow('POST — round trips to PostgreSQL', d.landlord.write.trips, d.bare.write.trips, 1),
    costRow('POST — one at a time, ms', d.landlord.write.latencyMs, d.bare.write.latencyMs, 2),
  ];
  const failures = [...Object.values(reads), ...Object.values(writes)].reduce((sum, load) => sum + load.failed, 0);
  const aims: Aim[] = [
    {
      what: `GET /v1/tenants/{name} ≥ ${READ_AIM}× bare req/s (${readRatio.toFixed(2)}×)`,
      met: readRatio >= READ_AIM,
      why: whyMissed('GET', reads, d.landlord.read, d.bare.read, d.readPlan),
    },
    {
      what: `POST /v1/tenants ≥ ${WRITE_AIM}× bare req/s (${writeRatio.toFixed(2)}×)`,
      met: writeRatio >= WRITE_AIM,
      why: whyMissed('POST', writes, d.landlord.write, d.bare.write),
    },
  ];
  const markdown = [
    `### api — ${fmt(options.seed, 0)} seeded tenants, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    'Landlord: `node src/cli.ts start` (admin key, rate limit off, log level warn); `POST` carries a fresh `Idempotency-Key` and writes the tenant and all Landlord writes with it (its statements are listed below). Bare: `bench/bare-server.ts` (Fastify + pg, same database and pool size, `select * from tenants where name = $1` / one `insert … returning *`).',
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    'Where the time goes (CPU from /proc over the measured run, divided by the requests served; round trips counted by `bench/pg-counter.ts` over 200 requests one at a time on an API-only Landlord node, `LANDLORD_ROLE=api`, so that no worker polling is counted):',
    '',
    table(['Cost', 'Landlord', 'Bare', 'Landlord / bare'], cost),
    '',
    `Statements of one Landlord GET: ${d.landlord.read.statements.during.join(' → ') || '–'}.${d.readPlan ? ` PostgreSQL plans it in ${fmt(d.readPlan.landlord.planningMs, 3)} ms and runs it in ${fmt(d.readPlan.landlord.executionMs, 3)} ms (median of 30 EXPLAIN ANALYZE), against ${fmt(d.readPlan.bare.planningMs, 3)} + ${fmt(d.readPlan.bare.executionMs, 3)} ms for the bare select; an unnamed statement is planned on every call.` : ''}`,
    '',
    `Statements of one Landlord POST: ${describe(d.landlord.write.statements)}.`,
    '',
    `The load generator (autocannon, in the bench process) used ${fmt(reads.landlord.benchUs, 0)} µs (GET) and ${fmt(writes.landlord.benchUs, 0)} µs (POST) of CPU per request on the same cores.${failures ? ` ${failures} requests failed or timed out.` : ''}`,
    '',
  ].join('\n');
  return { name: 'api', markdown, aims };
}

/** The statements of one request, then what it set off once answered. */
function describe(statements: Statements): string {
  const during = statements.during.join(' → ') || '–';
  return statements.after.length ? `${during}; then, after the answer (background work included): ${statements.after.join(' → ')}` : during;
}

function whyMissed(
  kind: 'GET' | 'POST',
  load: Record<'landlord' | 'bare', Load>,
  landlord: Trips,
  bare: Trips,
  plan?: { landlord: Plan; bare: Plan },
): string {
  const server = `${fmt(load.landlord.serverUs, 0)} µs of Landlord CPU per request against ${fmt(load.bare.serverUs, 0)} µs for the bare server`;
  const postgres = `${fmt(load.landlord.postgresUs, 0)} µs of PostgreSQL CPU against ${fmt(load.bare.postgresUs, 0)} µs`;
  const trips = `${fmt(landlord.trips, 1)} round trips to PostgreSQL against ${fmt(bare.trips, 1)}`;
  if (kind === 'GET') {
    const planned = plan
      ? ` PostgreSQL plans Landlord's select (${landlord.statements.during.join(', ')}) anew on every call in ${fmt(plan.landlord.planningMs, 3)} ms against ${fmt(plan.bare.planningMs, 3)} ms for the bare one.`
      : '';
    return `with the same ${trips}, each GET costs ${server} and ${postgres}; on 2 shared cores the sum caps the rate.${planned} Landlord's extra Node time is spread thin — building and compiling the joined query with Kysely on every request, parsing the wider row, the framework's hooks, validation and response schema — with no single hot spot (\`npm run bench -- api --profile\` and \`node bench/profile.ts\` show the split).`;
  }
  const commits = landlord.statements.commits;
  return `each POST makes ${trips} — ${landlord.statements.during.length} statements in ${commits} ${commits === 1 ? 'transaction' : 'transactions'} (${landlord.statements.during.join(' → ')}) — and writes four rows (the tenant, its idempotency key with the stored answer, the audit record and the \`tenant.created\` event, about 20 index entries against the bare insert's 8), then gives the event its feed position after answering; so it costs ${postgres} and ${server} (the request's validation, fingerprint, encryption of the stored answer and two JSON documents). On 2 shared cores those writes, not round trips, cap the rate: what is left is the work the aim's "validation, audit and idempotency" stands for, done once.`;
}
