import { generateKeyPair, SignJWT } from 'jose';
import { createDatabase } from './database.ts';
import { ADMIN_KEY, expectCall, seedLiveTenant, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, withTransactions } from './load.ts';
import { BenchBrowser } from './oidc-browser.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { startRoundTripCounter, tripsPer } from './round-trips.ts';
import { fmt } from './stats.ts';

/**
 * How long codes are made for. A code lives 60 s, and they are exchanged in the order they were made, faster than
 * they were made: the oldest, exchanged first (in the warm-up), is at most this old plus a moment. 40 s gave a fast
 * machine's ES256 client fewer codes than it exchanged in 12 s.
 */
const CODE_MAKING_S = 50;

/** How hard and how long the oidc scenario pushes. */
export interface OidcOptions {
  /** Authorization codes made before the token endpoint is measured (each works once, for 60 s). */
  codes: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const P99_AIM_MS = 50;
const REDIRECT = 'https://rp.bench.example/callback';

/** The ID token algorithms measured: RS256, every client's default, and ES256, the fast one a client may choose. */
const ALGORITHMS = ['RS256', 'ES256'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** The token endpoint measured for clients of one ID token algorithm, beside bare signing in that algorithm. */
interface Exchanges {
  alg: Algorithm;
  load: Load & { transactions: number };
  /** Bare `jose` signatures per second of the same ID token, one core. */
  ceiling: number;
  codesMade: number;
  codesPerSecond: number;
  codesLeft: number;
}

/**
 * The token endpoint (authorization code exchange: an ID token, an access token and a
 * refresh token per answer) for a client of each ID token algorithm, and userinfo, each at
 * `connections` connections, beside a bare `jose` loop signing the same ID token in this
 * process (the ceiling: what signing alone allows on one core).
 */
export async function runOidc(options: OidcOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const ceilings = new Map<Algorithm, number>();
  for (const alg of ALGORITHMS) {
    ceilings.set(alg, await joseSigningLoop(alg, 3000));
    log(`oidc: bare jose ${alg} signing ${fmt(ceilings.get(alg) ?? 0, 0)}/s`);
  }
  const database = await createDatabase('oidc');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('oidc', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const token = { token: ADMIN_KEY };
    await seedLiveTenant(landlord.url, database.url);
    const invited = await expectCall(201, landlord.url, 'POST', '/v1/tenants/bench-tenant/users', {
      ...token,
      body: { email: 'user@bench.example', login: 'user', roles: ['admin'] },
    });
    await expectCall(200, landlord.url, 'POST', '/v1/invitations/accept', {
      body: { token: invited.data.invitation.token, fullName: 'Bench User' },
    });
    const pids = { landlord: landlord.process.pid };
    const clients = new Map<Algorithm, { clientId: string; clientSecret: string }>();
    const exchanges: Exchanges[] = [];
    let accessTokens: string[] = [];
    for (const alg of ALGORITHMS) {
      const client = await expectCall(201, landlord.url, 'POST', '/v1/products/bench/oidc-clients', {
        ...token,
        body: { name: `bench-rp-${alg}`, type: 'confidential', redirectUris: [REDIRECT], idTokenSigningAlg: alg },
      });
      const credentials = client.data as { clientId: string; clientSecret: string };
      clients.set(alg, credentials);
      const rp = await relyingParty(landlord.url, credentials);
      if (alg === 'RS256') accessTokens = await rp.accessTokens(100);
      log(`oidc: making up to ${options.codes} authorization codes for the ${alg} client (${CODE_MAKING_S} s at most)`);
      const made = await rp.makeCodes(options.codes);
      log(`oidc: ${made.codes.length} codes at ${fmt(made.perSecond, 0)}/s; measuring the token endpoint`);
      let next = 0;
      const load = await withTransactions(database.name, () =>
        measureLoad(
          landlord.url,
          'landlord',
          () => ({ method: 'POST', path: '/oidc/token', headers: rp.form, body: rp.exchangeBody(made.codes[next++] ?? 'exhausted') }),
          pids,
          database.name,
          options,
        ),
      );
      exchanges.push({
        alg,
        load,
        ceiling: ceilings.get(alg) ?? 0,
        codesMade: made.codes.length,
        codesPerSecond: made.perSecond,
        codesLeft: Math.max(0, made.codes.length - next),
      });
    }
    log('oidc: measuring userinfo');
    const userinfo = await withTransactions(database.name, () =>
      measureLoad(
        landlord.url,
        'landlord',
        () => ({
          method: 'GET',
          path: '/oidc/me',
          headers: { authorization: `Bearer ${accessTokens[Math.floor(Math.random() * accessTokens.length)]}` },
        }),
        pids,
        database.name,
        options,
      ),
    );
    await landlord.process.stop();
    log('oidc: counting round trips');
    const rs256 = clients.get('RS256');
    if (!rs256) throw new Error('no RS256 client');
    const trips = await roundTrips(database.name, rs256);
    return report(options, { trips, exchanges, userinfo });
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

/**
 * A relying party's side against a running Landlord: a Landlord session from a login link
 * (every code is made under it), authorization codes made through `/oidc/auth` by 8
 * browsers, the token request's headers and body, and access tokens for userinfo.
 */
async function relyingParty(url: string, client: { clientId: string; clientSecret: string }) {
  const link = await expectCall(201, url, 'POST', '/v1/tenants/bench-tenant/users/user/login-links', {
    token: ADMIN_KEY,
    body: { signIn: 'landlord' },
  });
  const first = new BenchBrowser(url);
  await first.visit(link.data.loginUrl);
  const session = first.cookie('landlord_session');
  if (!session) throw new Error('the login link started no session');
  const authorizeUrl = `${url}/oidc/auth?${new URLSearchParams({ client_id: client.clientId, response_type: 'code', scope: 'openid email profile', redirect_uri: REDIRECT })}`;
  const browsers = Array.from({ length: 8 }, () => new BenchBrowser(url, { landlord_session: session }));
  const makeCodes = async (count: number) => {
    const codes: string[] = [];
    const startedAt = performance.now();
    // One flow at a time per browser: its interaction cookies belong to the flow under way.
    await Promise.all(
      browsers.map(async (browser, worker) => {
        for (let index = worker; index < count && performance.now() - startedAt < CODE_MAKING_S * 1000; index += browsers.length) {
          const answer = await browser.visit(authorizeUrl);
          const code = answer.location ? new URL(answer.location).searchParams.get('code') : null;
          if (!code) throw new Error(`no code: ${answer.status} ${answer.location}`);
          codes.push(code);
        }
      }),
    );
    return { codes, perSecond: codes.length / ((performance.now() - startedAt) / 1000) };
  };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
  const exchangeBody = (code: string) => new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }).toString();
  const exchange = async (code: string) => {
    const answer = await fetch(`${url}/oidc/token`, { method: 'POST', headers: form, body: exchangeBody(code) });
    const body = (await answer.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`token endpoint: ${answer.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };
  const accessTokens = async (count: number) => {
    const tokens: string[] = [];
    for (const code of (await makeCodes(count)).codes) tokens.push(await exchange(code));
    return tokens;
  };
  return { makeCodes, form, exchangeBody, exchange, accessTokens };
}

/** Round trips to PostgreSQL per code exchange and per userinfo, one at a time, through the counting proxy. */
async function roundTrips(database: string, client: { clientId: string; clientSecret: string }) {
  const counter = await startRoundTripCounter();
  const started: Started[] = [counter.process];
  try {
    const landlord = await startLandlordProcess('oidc-diagnosis', { DATABASE_URL: counter.urlFor(database) });
    started.push(landlord.process);
    const rp = await relyingParty(landlord.url, client);
    const warm = await rp.accessTokens(10);
    const { codes } = await rp.makeCodes(100);
    const idle = await counter.idleRate();
    const exchange = await tripsPer(counter, idle, codes.length, async (index) => {
      await rp.exchange(codes[index] ?? '');
    });
    const userinfo = await tripsPer(counter, idle, 100, async (index) => {
      const answer = await fetch(`${landlord.url}/oidc/me`, { headers: { authorization: `Bearer ${warm[index % warm.length]}` } });
      if (answer.status !== 200) throw new Error(`userinfo: ${answer.status}`);
      await answer.arrayBuffer();
    });
    return { exchange: Math.max(0, exchange.trips), userinfo: Math.max(0, userinfo.trips) };
  } finally {
    for (const process of started.reverse()) await process.stop();
  }
}

/** ID tokens in `alg` a bare `jose` loop signs per second in this process, for `ms`. */
async function joseSigningLoop(alg: Algorithm, ms: number): Promise<number> {
  const { privateKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 2048 } : {});
  const claims = {
    email: 'user@bench.example',
    email_verified: true,
    name: 'Bench User',
    tenant: { id: crypto.randomUUID(), name: 'bench-tenant', login: 'user', roles: ['admin'], permissions: [] },
  };
  const deadline = performance.now() + ms;
  let signed = 0;
  const startedAt = performance.now();
  while (performance.now() < deadline) {
    await new SignJWT(claims)
      .setProtectedHeader({ alg, kid: 'k' })
      .setIssuer('http://127.0.0.1')
      .setSubject(crypto.randomUUID())
      .setAudience('client')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    signed++;
  }
  return signed / ((performance.now() - startedAt) / 1000);
}

function report(
  options: OidcOptions,
  run: {
    exchanges: Exchanges[];
    userinfo: Load & { transactions: number };
    trips: { exchange: number; userinfo: number };
  },
): ScenarioReport {
  const { exchanges, userinfo } = run;
  const little = (load: Load) => fmt((options.connections * 1000) / load.perSecond, 1);
  // An exchange of a used-up code is a fast refusal: it flatters latency and is not a token, so such a run measured nothing.
  const ranOut =
    'the run used up its authorization codes, so the rest of its requests were refusals: latency and CPU per token are not measured. Make more codes (`codes`) or run shorter.';
  const rows = exchanges.flatMap(({ alg, load, ceiling, codesLeft }) => [
    [`token endpoint, ${alg} client — tokens/s`, fmt(load.perSecond, 0), fmt(ceiling, 0), (load.perSecond / ceiling).toFixed(2), '', ''],
    [
      `token endpoint, ${alg} client — p50 / p99 latency, ms`,
      `${fmt(load.p50, 1)} / ${fmt(load.p99, 1)}`,
      '',
      '',
      `p99 < ${P99_AIM_MS} ms`,
      codesLeft > 0 && load.p99 < P99_AIM_MS ? 'met' : '**missed**',
    ],
    [`token endpoint, ${alg} client — server CPU per token, µs`, fmt(load.serverUs, 0), fmt(1_000_000 / ceiling, 0), '', '', ''],
    [`token endpoint, ${alg} client — PostgreSQL CPU per token, µs`, fmt(load.postgresUs, 0), '', '', '', ''],
  ]);
  rows.push(
    ['userinfo — req/s', fmt(userinfo.perSecond, 0), '', '', '', ''],
    [
      'userinfo — p50 / p99 latency, ms',
      `${fmt(userinfo.p50, 1)} / ${fmt(userinfo.p99, 1)}`,
      '',
      '',
      `p99 < ${P99_AIM_MS} ms`,
      userinfo.p99 < P99_AIM_MS ? 'met' : '**missed**',
    ],
    ['userinfo — server CPU per request, µs', fmt(userinfo.serverUs, 0), '', '', '', ''],
    [
      'round trips to PostgreSQL per exchange / per userinfo, one at a time',
      `${fmt(run.trips.exchange, 1)} / ${fmt(run.trips.userinfo, 1)}`,
      '',
      '',
      '',
      '',
    ],
    ...exchanges.map(({ alg, load }) => [
      `PostgreSQL transactions per exchange (${alg} client) / per userinfo, at ${options.connections} connections`,
      `${fmt(load.transactions, 1)} / ${fmt(userinfo.transactions, 1)}`,
      '',
      '',
      '',
      '',
    ]),
  );
  const aims: Aim[] = [
    ...exchanges.map(({ alg, load, ceiling, codesLeft }): Aim => {
      const cpuPerExchange = load.serverUs + load.postgresUs + load.benchUs;
      return {
        what: `token endpoint p99 < ${P99_AIM_MS} ms at ${options.connections} connections, ${alg === 'RS256' ? 'RS256 ID tokens (the default)' : `a client with ${alg} ID tokens`} (${fmt(load.p99, 1)} ms; ${fmt(load.perSecond, 0)} tokens/s beside ${fmt(ceiling, 0)} bare ${alg} signatures/s)`,
        met: codesLeft > 0 && load.p99 < P99_AIM_MS,
        why:
          codesLeft === 0
            ? ranOut
            : `${options.connections} connections in a closed loop at ${fmt(load.perSecond, 0)} tokens/s mean ${little(load)} ms per exchange by Little's law. Each exchange costs ${fmt(load.serverUs, 0)} µs of Landlord CPU (an ${alg} signature alone is ${fmt(1_000_000 / ceiling, 0)} µs), ${fmt(load.postgresUs, 0)} µs of PostgreSQL and ${fmt(load.benchUs, 0)} µs of the load generator: the 2 shared cores can do at most ${fmt(2_000_000 / cpuPerExchange, 0)} exchanges/s, a mean of at least ${fmt((options.connections * cpuPerExchange) / 2000, 1)} ms with both cores doing nothing else, which leaves the slowest 1 % little room under ${P99_AIM_MS} ms.`,
      };
    }),
    {
      what: `userinfo p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(userinfo.p99, 1)} ms)`,
      met: userinfo.p99 < P99_AIM_MS,
      why: `${fmt(userinfo.perSecond, 0)} req/s at ${options.connections} connections mean ${little(userinfo)} ms per request by Little's law.`,
    },
  ];
  const failures = exchanges.reduce((sum, { load }) => sum + load.failed, userinfo.failed);
  const codes = exchanges
    .map(({ alg, codesMade, codesPerSecond }) => `${codesMade} for the ${alg} client (${fmt(codesPerSecond, 0)} codes/s)`)
    .join(', ');
  const markdown = [
    `### oidc — ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    `Landlord: \`node src/cli.ts start\`; two confidential clients, one with RS256 ID tokens (the default every relying party accepts), one registered with \`idTokenSigningAlg: "ES256"\`. For each, authorization codes (at most ${options.codes}, made for ${CODE_MAKING_S} s at most, as a code lives 60 s) made beforehand through the real authorization endpoint and interaction by 8 browsers with a Landlord session from a login link — ${codes} — each exchanged once at \`POST /oidc/token\` (HTTP Basic; an ID token with the tenant claim, an access token, a refresh token per answer); then \`GET /oidc/me\` with one of 100 access tokens. Ceiling: a bare \`jose\` loop signing the same ID token in the same algorithm in the bench process, one core, nothing else.`,
    '',
    table(['Measure', 'Landlord', 'Bare jose signing', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `${exchanges.map(({ alg, codesLeft }) => `${codesLeft} codes of the ${alg} client`).join(' and ')} were left unused.${failures ? ` ${failures} requests failed or timed out (a run that used up its codes counts the rest as failures).` : ''}`,
    '',
  ].join('\n');
  return { name: 'oidc', markdown, aims };
}
