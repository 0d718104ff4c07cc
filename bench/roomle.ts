import { createDatabase } from './database.ts';
import { compareEndpoint } from './endpoint-report.ts';
import { ADMIN_KEY, call, expectCall, seedLiveTenant, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer } from './load.ts';
import { BenchBrowser } from './oidc-browser.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { startRoundTripCounter, tripsPer } from './round-trips.ts';
import { fmt, p99Why, versusRow } from './stats.ts';

/** How hard and how long the roomle-read scenario pushes. */
export interface RoomleOptions {
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
    const { number, token, rp } = await seed(landlord.url, database.url);
    const bare = await startBareServer('bare-roomle.ts', database.url);
    started.push(bare.process);
    log(`roomle-read: tenant ${number}, user token issued; measuring`);
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const load = (url: string, server: 'landlord' | 'bare', path: string, headers: Record<string, string>) =>
      measureLoad(url, server, () => ({ method: 'GET', path, headers }), pids, database.name, options);
    const bareLoad = await load(bare.url, 'bare', `/tenants/${number}`, {});
    const landlordLoad = await load(landlord.url, 'landlord', `/v2/tenants/${number}/`, { authorization: `Bearer ${token}` });
    await landlord.process.stop();
    await bare.process.stop();
    log('roomle-read: counting round trips');
    const trips = await roundTrips(database.name, number, rp);
    return report(options, { landlord: landlordLoad, bare: bareLoad }, trips);
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

/** A live tenant of a product serving the Roomle API, a user of it with every right, and that user's access token. */
async function seed(url: string, databaseUrl: string) {
  const admin = { token: ADMIN_KEY };
  await seedLiveTenant(url, databaseUrl);
  const enabled = await call(url, 'PUT', '/v1/products/bench/roomle', { ...admin, body: { packages: {} } });
  if (enabled.status !== 200) throw new Error(`PUT /v1/products/bench/roomle: ${enabled.status} ${JSON.stringify(enabled.body)}`);
  const invited = await expectCall(201, url, 'POST', '/v1/tenants/bench-tenant/users', {
    ...admin,
    body: { email: 'user@bench.example', login: 'user', roles: ['admin'] },
  });
  await expectCall(200, url, 'POST', '/v1/invitations/accept', { body: { token: invited.data.invitation.token, fullName: 'Bench User' } });
  const client = await expectCall(201, url, 'POST', '/v1/products/bench/oidc-clients', {
    ...admin,
    body: { name: 'bench-rp', type: 'confidential', redirectUris: [REDIRECT] },
  });
  const rp = client.data as { clientId: string; clientSecret: string };
  const token = await issueToken(url, rp);
  const me = await call(url, 'GET', '/v2/tenants/me', { headers: { authorization: `Bearer ${token}` } });
  const number = (me.body as { tenant?: { id?: number } } | undefined)?.tenant?.id;
  if (me.status !== 200 || typeof number !== 'number') throw new Error(`/v2/tenants/me: ${me.status} ${JSON.stringify(me.body)}`);
  return { number, token, rp };
}

/**
 * The bench user's access token from the node at `url` (its issuer is its own URL): a
 * login link, the authorization request for the product's resource, the code exchange.
 */
async function issueToken(url: string, { clientId, clientSecret }: { clientId: string; clientSecret: string }): Promise<string> {
  const admin = { token: ADMIN_KEY };
  const link = await expectCall(201, url, 'POST', '/v1/tenants/bench-tenant/users/user/login-links', {
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
async function roundTrips(database: string, number: number, rp: { clientId: string; clientSecret: string }) {
  const counter = await startRoundTripCounter();
  const started: Started[] = [counter.process];
  try {
    const landlord = await startLandlordProcess('roomle-diagnosis', { DATABASE_URL: counter.urlFor(database) });
    started.push(landlord.process);
    const bare = await startBareServer('bare-roomle.ts', counter.urlFor(database));
    started.push(bare.process);
    // A token names its issuer, the node's URL: this node issues its own.
    const token = await issueToken(landlord.url, rp);
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
  load: Record<'landlord' | 'bare', Load>,
  trips: { landlord: number; bare: number },
): ScenarioReport {
  const { rate, rateMet, p99Met, rows: endpoint } = compareEndpoint('read', load, { rate: RATE_AIM, p99Ms: P99_AIM_MS });
  const rows = [...endpoint, versusRow('round trips to PostgreSQL', trips.landlord, trips.bare, 2)];
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
    `### roomle-read — one tenant read with a user's access token, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    'Landlord: `node src/cli.ts start` (rate limit off, log level warn); `GET /v2/tenants/{id}/` with `Authorization: Bearer <access token>` of a user holding every Roomle right (an `at+jwt` for the product’s resource, from the real authorization-code flow), so the answer includes `apiKey` (decrypted) and `webhook`. Bare: `bench/bare-roomle.ts` (Fastify + pg, same database and pool size, the same statement prepared, no auth, no schema).',
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `Round trips counted by \`bench/pg-counter.ts\` over 200 reads one at a time.${failures ? ` ${failures} requests failed or timed out.` : ''}`,
    '',
  ].join('\n');
  return { name: 'roomle-read', markdown, aims };
}
