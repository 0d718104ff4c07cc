import { createDatabase, withClient } from './database.ts';
import { compareEndpoint } from './endpoint-report.ts';
import { ADMIN_KEY, call, expectCall, seedLiveTenant, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer, withTransactions } from './load.ts';
import { BenchBrowser } from './oidc-browser.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { startRoundTripCounter, tripsPer } from './round-trips.ts';
import { fmt, p99Why, versusRow } from './stats.ts';

/** How hard and how long the roomle-read scenario pushes. */
export interface RoomleOptions {
  /** Tenants read at random, each with its own user's token: concurrent reads are of different tenants. */
  tenants: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const RATE_AIM = 0.6;
const P99_AIM_MS = 15;
const REDIRECT = 'https://rp.bench.example/callback';
const RESOURCE = 'urn:landlord:product:bench';

/**
 * `GET /v2/tenants/{id}/` with a signed-in user's access token (a JWT for the product's
 * resource, got through the real OIDC flow) beside a bare Fastify + pg server running the
 * same statement without auth or schemas.
 */
export async function runRoomleRead(options: RoomleOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('roomle');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('roomle', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const { readers, rp } = await seed(landlord.url, database.url, options.tenants);
    const bare = await startBareServer('bare-roomle.ts', database.url);
    started.push(bare.process);
    log(`roomle-read: ${readers.length} tenants, a user token for each; measuring`);
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const pick = () => readers[Math.floor(Math.random() * readers.length)] as Reader;
    const load = (
      url: string,
      server: 'landlord' | 'bare',
      request: (reader: Reader) => { path: string; headers: Record<string, string> },
    ) =>
      withTransactions(database.name, () =>
        measureLoad(url, server, () => ({ method: 'GET', ...request(pick()) }), pids, database.name, options),
      );
    const bareLoad = await load(bare.url, 'bare', ({ number }) => ({ path: `/tenants/${number}`, headers: {} }));
    const landlordLoad = await load(landlord.url, 'landlord', ({ number, token }) => ({
      path: `/v2/tenants/${number}/`,
      headers: { authorization: `Bearer ${token}` },
    }));
    await landlord.process.stop();
    await bare.process.stop();
    log('roomle-read: counting round trips');
    const first = readers[0] as Reader;
    const trips = await roundTrips(database.name, first, rp);
    return report(options, { landlord: landlordLoad, bare: bareLoad }, trips);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

/** A tenant's Roomle number and its user's access token. */
interface Reader {
  tenant: string;
  number: number;
  token: string;
}

/**
 * `count` live tenants of a product serving the Roomle API, each with a user holding every right, and each
 * user's access token.
 */
async function seed(url: string, databaseUrl: string, count: number) {
  const admin = { token: ADMIN_KEY };
  await seedLiveTenant(url, databaseUrl);
  const tenants = ['bench-tenant'];
  for (let index = 2; index <= count; index++) {
    const name = `bench-tenant-${index}`;
    await expectCall(201, url, 'POST', '/v1/tenants', { ...admin, body: { product: 'bench', name, displayName: `Bench ${index}` } });
    tenants.push(name);
  }
  await withClient(databaseUrl, (client) => client.query("update tenants set status = 'active'"));
  const enabled = await call(url, 'PUT', '/v1/products/bench/roomle', { ...admin, body: { packages: {} } });
  if (enabled.status !== 200) throw new Error(`PUT /v1/products/bench/roomle: ${enabled.status} ${JSON.stringify(enabled.body)}`);
  const client = await expectCall(201, url, 'POST', '/v1/products/bench/oidc-clients', {
    ...admin,
    body: { name: 'bench-rp', type: 'confidential', redirectUris: [REDIRECT] },
  });
  const rp = client.data as { clientId: string; clientSecret: string };
  const readers: Reader[] = [];
  for (const [index, tenant] of tenants.entries()) {
    const invited = await expectCall(201, url, 'POST', `/v1/tenants/${tenant}/users`, {
      ...admin,
      body: { email: `user-${index}@bench.example`, login: 'user', roles: ['admin'] },
    });
    await expectCall(200, url, 'POST', '/v1/invitations/accept', {
      body: { token: invited.data.invitation.token, fullName: 'Bench User' },
    });
    const token = await issueToken(url, rp, tenant);
    const me = await call(url, 'GET', '/v2/tenants/me', { headers: { authorization: `Bearer ${token}` } });
    const number = (me.body as { tenant?: { id?: number } } | undefined)?.tenant?.id;
    if (me.status !== 200 || typeof number !== 'number') throw new Error(`/v2/tenants/me: ${me.status} ${JSON.stringify(me.body)}`);
    readers.push({ tenant, number, token });
  }
  return { readers, rp };
}

/**
 * The access token of the tenant's bench user from the node at `url` (its issuer is its own URL): a
 * login link, the authorization request for the product's resource, the code exchange.
 */
async function issueToken(
  url: string,
  { clientId, clientSecret }: { clientId: string; clientSecret: string },
  tenant: string,
): Promise<string> {
  const admin = { token: ADMIN_KEY };
  const link = await expectCall(201, url, 'POST', `/v1/tenants/${tenant}/users/user/login-links`, {
    ...admin,
    body: { signIn: 'landlord' },
  });
  const browser = new BenchBrowser(url);
  await browser.visit(link.data.loginUrl);
  const params = { client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, resource: RESOURCE };
  const answer = await browser.visit(`${url}/oidc/auth?${new URLSearchParams(params)}`);
  const code = answer.location ? new URL(answer.location).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${answer.status} ${answer.location}`);
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  const exchanged = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, resource: RESOURCE }).toString(),
  });
  const tokens = (await exchanged.json()) as { access_token?: string };
  if (!tokens.access_token) throw new Error(`token endpoint: ${exchanged.status} ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}

/** Round trips to PostgreSQL per read, one at a time, through the counting proxy. */
async function roundTrips(database: string, { number, tenant }: Reader, rp: { clientId: string; clientSecret: string }) {
  const counter = await startRoundTripCounter();
  const started: Started[] = [counter.process];
  try {
    const landlord = await startLandlordProcess('roomle-diagnosis', { DATABASE_URL: counter.urlFor(database) });
    started.push(landlord.process);
    const bare = await startBareServer('bare-roomle.ts', counter.urlFor(database));
    started.push(bare.process);
    // A token names its issuer, the node's URL: this node issues its own.
    const token = await issueToken(landlord.url, rp, tenant);
    const read = (url: string, path: string, headers: Record<string, string>) => async () => {
      const answer = await call(url, 'GET', path, { headers });
      if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    const viaLandlord = read(landlord.url, `/v2/tenants/${number}/`, { authorization: `Bearer ${token}` });
    await viaLandlord();
    const idle = await counter.idleRate();
    return {
      landlord: Math.max(0, (await tripsPer(counter, idle, 200, viaLandlord)).trips),
      bare: Math.max(0, (await tripsPer(counter, idle, 200, read(bare.url, `/tenants/${number}`, {}))).trips),
    };
  } finally {
    for (const process of started.reverse()) await process.stop();
  }
}

function report(
  options: RoomleOptions,
  load: Record<'landlord' | 'bare', Load & { transactions: number }>,
  trips: { landlord: number; bare: number },
): ScenarioReport {
  const { rate, rateMet, p99Met, rows: endpoint } = compareEndpoint('read', load, { rate: RATE_AIM, p99Ms: P99_AIM_MS });
  const rows = [
    ...endpoint,
    versusRow('round trips to PostgreSQL per read, one at a time', trips.landlord, trips.bare, 2),
    versusRow(
      `PostgreSQL transactions per read at ${options.connections} connections`,
      load.landlord.transactions,
      load.bare.transactions,
      2,
    ),
  ];
  const failures = load.landlord.failed + load.bare.failed;
  const why = `each read costs ${fmt(load.landlord.serverUs, 0)} µs of Landlord CPU against ${fmt(load.bare.serverUs, 0)} µs for the bare server: the access token is checked (its signature once, then from the node's cache until it expires), then the same one statement, the response schema (a larger object than the bare server's row) and the Roomle envelope.`;
  const aims: Aim[] = [
    { what: `GET /v2/tenants/{id}/ ≥ ${RATE_AIM}× bare req/s (${rate.toFixed(2)}×)`, met: rateMet, why },
    {
      what: `GET /v2/tenants/{id}/ p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(load.landlord.p99, 1)} ms)`,
      met: p99Met,
      why: p99Why(options.connections, P99_AIM_MS, load),
    },
  ];
  const markdown = [
    `### roomle-read — ${options.tenants} tenants read at random, each with its user's access token, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    'Landlord: `node src/cli.ts start` (rate limit off, log level warn); `GET /v2/tenants/{id}/` of a tenant picked at random per request, with `Authorization: Bearer <access token>` of that tenant’s user, holding every Roomle right (an `at+jwt` for the product’s resource, from the real authorization-code flow), so the answer includes `apiKey` (decrypted) and `webhook`. Bare: `bench/bare-roomle.ts` (Fastify + pg, same database and pool size, the same statement prepared, one per request, no auth, no schema), reading the same random tenants. Landlord sends the reads of one event-loop turn as one statement (`turnBatchedRead`), so under load it makes fewer statements than requests.',
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `Round trips counted by \`bench/pg-counter.ts\` over 200 reads one at a time.${failures ? ` ${failures} requests failed or timed out.` : ''}`,
    '',
  ].join('\n');
  return { name: 'roomle-read', markdown, aims };
}
