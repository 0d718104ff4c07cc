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

/**
 * The token endpoint (authorization code exchange: an RS256 ID token, an access token and
 * a refresh token per answer) and userinfo, each at `connections` connections, beside a
 * bare `jose` loop signing the same RS256 ID token in this process (the ceiling: what
 * signing alone allows on one core).
 */
export async function runOidc(options: OidcOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const ceiling = await joseSigningLoop(3000);
  log(`oidc: bare jose RS256 signing ${fmt(ceiling, 0)}/s`);
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
    const client = await expectCall(201, landlord.url, 'POST', '/v1/products/bench/oidc-clients', {
      ...token,
      body: { name: 'bench-rp', type: 'confidential', redirectUris: [REDIRECT] },
    });
    const { clientId, clientSecret } = client.data as { clientId: string; clientSecret: string };

    const rp = await relyingParty(landlord.url, { clientId, clientSecret });
    const { makeCodes, form, exchangeBody } = rp;
    const accessTokens = await rp.accessTokens(100);

    log(`oidc: making up to ${options.codes} authorization codes (40 s at most)`);
    const made = await makeCodes(options.codes);
    log(`oidc: ${made.codes.length} codes at ${fmt(made.perSecond, 0)}/s; measuring the token endpoint`);
    const pids = { landlord: landlord.process.pid };
    let next = 0;
    const exchange = await withTransactions(database.name, () =>
      measureLoad(
        landlord.url,
        'landlord',
        () => ({ method: 'POST', path: '/oidc/token', headers: form, body: exchangeBody(made.codes[next++] ?? 'exhausted') }),
        pids,
        database.name,
        options,
      ),
    );
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
    // Under load, the statements of one turn of the event loop serve many requests: per request, fewer than one at a time.
    const underLoad = { exchange: exchange.transactions, userinfo: userinfo.transactions };
    await landlord.process.stop();
    log('oidc: counting round trips');
    const trips = await roundTrips(database.name, { clientId, clientSecret });
    return report(options, {
      trips,
      underLoad,
      exchange,
      userinfo,
      ceiling,
      codesPerSecond: made.perSecond,
      codesMade: made.codes.length,
      codesLeft: Math.max(0, made.codes.length - next),
    });
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
        // Codes live 60 s: stop making them after 40 s, so the first is still valid when the run ends.
        for (let index = worker; index < count && performance.now() - startedAt < 40_000; index += browsers.length) {
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

/** RS256 ID tokens a bare `jose` loop signs per second in this process, for `ms`. */
async function joseSigningLoop(ms: number): Promise<number> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
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
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
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
    exchange: Load;
    userinfo: Load;
    ceiling: number;
    codesPerSecond: number;
    codesMade: number;
    codesLeft: number;
    trips: { exchange: number; userinfo: number };
    underLoad: { exchange: number; userinfo: number };
  },
): ScenarioReport {
  const { exchange, userinfo, ceiling } = run;
  const exchangeMet = exchange.p99 < P99_AIM_MS;
  const userinfoMet = userinfo.p99 < P99_AIM_MS;
  const rows = [
    [
      'token endpoint (code exchange) — tokens/s',
      fmt(exchange.perSecond, 0),
      fmt(ceiling, 0),
      (exchange.perSecond / ceiling).toFixed(2),
      '',
      '',
    ],
    [
      'token endpoint — p50 / p99 latency, ms',
      `${fmt(exchange.p50, 1)} / ${fmt(exchange.p99, 1)}`,
      '',
      '',
      `p99 < ${P99_AIM_MS} ms`,
      exchangeMet ? 'met' : '**missed**',
    ],
    ['token endpoint — server CPU per token, µs', fmt(exchange.serverUs, 0), fmt(1_000_000 / ceiling, 0), '', '', ''],
    ['token endpoint — PostgreSQL CPU per token, µs', fmt(exchange.postgresUs, 0), '', '', '', ''],
    ['userinfo — req/s', fmt(userinfo.perSecond, 0), '', '', '', ''],
    [
      'userinfo — p50 / p99 latency, ms',
      `${fmt(userinfo.p50, 1)} / ${fmt(userinfo.p99, 1)}`,
      '',
      '',
      `p99 < ${P99_AIM_MS} ms`,
      userinfoMet ? 'met' : '**missed**',
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
    [
      `PostgreSQL transactions per exchange / per userinfo, at ${options.connections} connections`,
      `${fmt(run.underLoad.exchange, 1)} / ${fmt(run.underLoad.userinfo, 1)}`,
      '',
      '',
      '',
      '',
    ],
  ];
  const little = (load: Load) => fmt((options.connections * 1000) / load.perSecond, 1);
  const cpuPerExchange = exchange.serverUs + exchange.postgresUs + exchange.benchUs;
  const aims: Aim[] = [
    {
      what: `token endpoint p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(exchange.p99, 1)} ms; ${fmt(exchange.perSecond, 0)} tokens/s beside ${fmt(ceiling, 0)} bare RS256 signatures/s)`,
      met: exchangeMet,
      why: `${options.connections} connections in a closed loop at ${fmt(exchange.perSecond, 0)} tokens/s mean ${little(exchange)} ms per exchange by Little's law. Each exchange costs ${fmt(exchange.serverUs, 0)} µs of Landlord CPU (an RS256 signature alone is ${fmt(1_000_000 / ceiling, 0)} µs), ${fmt(exchange.postgresUs, 0)} µs of PostgreSQL and ${fmt(exchange.benchUs, 0)} µs of the load generator: the 2 shared cores can do at most ${fmt(2_000_000 / cpuPerExchange, 0)} exchanges/s, a mean of at least ${fmt((options.connections * cpuPerExchange) / 2000, 1)} ms with both cores doing nothing else, which leaves the slowest 1 % little room under ${P99_AIM_MS} ms.`,
    },
    {
      what: `userinfo p99 < ${P99_AIM_MS} ms at ${options.connections} connections (${fmt(userinfo.p99, 1)} ms)`,
      met: userinfoMet,
      why: `${fmt(userinfo.perSecond, 0)} req/s at ${options.connections} connections mean ${little(userinfo)} ms per request by Little's law.`,
    },
  ];
  const failures = exchange.failed + userinfo.failed;
  const markdown = [
    `### oidc — ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    `Landlord: \`node src/cli.ts start\`; a confidential client; ${run.codesMade} authorization codes (at most ${options.codes}, made for 40 s at most, as a code lives 60 s) made beforehand through the real authorization endpoint and interaction (a Landlord session from a login link, ${fmt(run.codesPerSecond, 0)} codes/s with 8 browsers), each exchanged once at \`POST /oidc/token\` (HTTP Basic; an RS256 ID token with the tenant claim, an access token, a refresh token per answer); then \`GET /oidc/me\` with one of 100 access tokens. Ceiling: a bare \`jose\` loop signing the same RS256 ID token in the bench process, one core, nothing else.`,
    '',
    table(['Measure', 'Landlord', 'Bare jose signing', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `${run.codesLeft} codes were left unused.${failures ? ` ${failures} requests failed or timed out (a run that used up its codes counts the rest as failures).` : ''}`,
    '',
  ].join('\n');
  return { name: 'oidc', markdown, aims };
}
