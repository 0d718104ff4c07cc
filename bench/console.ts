/**
 * console: the admin console's two heaviest pages with 100,000 tenants in the database —
 * the tenants page (first page, a name-prefix search, a status filter, a later cursor
 * page) and a tenant page (timeline and health tabs of random tenants) — timed from a
 * signed-in browser session over loopback, a few requests in flight at once.
 */
import pg from 'pg';
import { request } from 'undici';
import { type BenchDatabase, createDatabase } from './database.ts';
import { ADMIN_KEY, agent, expectCall, startLandlordProcess } from './landlord.ts';
import type { Started } from './processes.ts';
import { type Aim, type ScenarioReport, table } from './report.ts';
import { fmt, inParallel, percentile } from './stats.ts';

/** How big the console scenario is. */
export interface ConsoleOptions {
  tenants: number;
  /** Requests per page kind. */
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
}

const P95_AIM_MS = 150;

/** A browser session: the console cookie, got through the sign-in form as a browser gets it. */
async function signIn(url: string): Promise<string> {
  const form = await request(`${url}/console/signin`, { dispatcher: agent });
  const html = await form.body.text();
  const pre = String([form.headers['set-cookie']].flat()[0] ?? '').split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const posted = await request(`${url}/console/signin`, {
    method: 'POST',
    dispatcher: agent,
    headers: { cookie: pre, origin: url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, key: ADMIN_KEY }).toString(),
  });
  await posted.body.text();
  const session = [posted.headers['set-cookie']]
    .flat()
    .map(String)
    .find((line) => line.startsWith('landlord_console='));
  if (posted.statusCode !== 303 || !session) throw new Error(`console sign-in: ${posted.statusCode}`);
  return session.split(';')[0] ?? '';
}

async function timePages(url: string, cookie: string, paths: string[], concurrency: number): Promise<number[]> {
  const times: number[] = [];
  await inParallel(paths, concurrency, async (path) => {
    const started = performance.now();
    const response = await request(`${url}${path}`, { dispatcher: agent, headers: { cookie } });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
    times.push(performance.now() - started);
  });
  return times;
}

/** Runs the console scenario. */
export async function runConsole(options: ConsoleOptions, log: (line: string) => void): Promise<ScenarioReport> {
  let database: BenchDatabase | undefined;
  const started: Started[] = [];
  try {
    database = await createDatabase('console');
    const landlord = await startLandlordProcess('console', { DATABASE_URL: database.url, LANDLORD_HEALTH_CONCURRENCY: '0' });
    started.push(landlord.process);
    const product = await expectCall(201, landlord.url, 'POST', '/v1/products', {
      token: ADMIN_KEY,
      body: { name: 'console-bench', displayName: 'Console bench', provisioning: { autoSendCreation: false } },
    });
    const client = new pg.Client({ connectionString: database.url, application_name: 'landlord-bench' });
    await client.connect();
    let ids: string[];
    try {
      log(`console: seeding ${options.tenants} tenants with health rows, hourly totals and timelines`);
      await client.query(
        `insert into tenants (id, product_id, name, display_name, status, last_stable_status)
         select gen_random_uuid(), $1, 'c-' || i, 'Customer ' || i, case when i % 10 = 0 then 'inactive' else 'active' end, 'active'
         from generate_series(1, $2::int) i`,
        [product.data.id, options.tenants],
      );
      await client.query(
        `insert into tenant_health (tenant_id, product_id, state, state_since, last_probe_at, next_probe_at)
         select id, product_id, case when name like '%7' then 'unavailable' else 'healthy' end, now() - interval '1 day', now(), now() + interval '1 day' from tenants`,
      );
      const sample = await client.query<{ id: string }>('select id from tenants order by random() limit 200');
      ids = sample.rows.map((row) => row.id);
      // The sampled tenants have a month of hourly probe totals and a long timeline.
      await client.query(
        `insert into tenant_probe_hourly (tenant_id, hour, probes, failures, observed_ms, down_ms, latency_sum_ms, latency_hist)
         select t, date_trunc('hour', now()) - h * interval '1 hour', 60, h % 7, 3600000, 0, 60 * 40, '{}'::int[]
         from unnest($1::uuid[]) t, generate_series(1, 720) h`,
        [ids],
      );
      await client.query(
        `insert into tenant_timeline (tenant_id, at, kind, action, from_status, to_status, actor_type, actor_id, detail)
         select t, now() - n * interval '1 minute', (array['transition','call','report'])[1 + n % 3], 'deactivate', 'active', 'inactive', 'system', 'landlord',
                jsonb_build_object('url', 'http://backend/x', 'status', 200, 'durationMs', 12)
         from unnest($1::uuid[]) t, generate_series(1, 300) n`,
        [ids],
      );
      await client.query('vacuum analyze');
    } finally {
      await client.end();
    }
    const cookie = await signIn(landlord.url);
    const pick = (index: number) => ids[index % ids.length] as string;
    const repeat = (make: (index: number) => string) => Array.from({ length: options.requests }, (_, index) => make(index));
    const firstPage = await request(`${landlord.url}/console/tenants`, { dispatcher: agent, headers: { cookie } });
    const cursor = /rel="next" href="[^"]*cursor=([^"&]+)/.exec(await firstPage.body.text())?.[1] ?? '';
    const kinds: { label: string; paths: string[] }[] = [
      { label: 'Tenants page, first page', paths: repeat(() => '/console/tenants') },
      { label: 'Tenants page, name prefix search', paths: repeat((index) => `/console/tenants?q=c-${(index % 90) + 10}`) },
      { label: 'Tenants page, status + health filter', paths: repeat(() => '/console/tenants?status=active&health=unavailable') },
      { label: 'Tenants page, next page (cursor)', paths: repeat(() => `/console/tenants?cursor=${cursor}`) },
      { label: 'Tenant page, timeline tab', paths: repeat((index) => `/console/tenants/${pick(index)}`) },
      { label: 'Tenant page, health tab (30 days)', paths: repeat((index) => `/console/tenants/${pick(index)}?tab=health&window=30d`) },
    ];
    // Warm up each page once (prepared statements, JIT), then measure.
    for (const kind of kinds) await timePages(landlord.url, cookie, kind.paths.slice(0, 5), 1);
    const rows: string[][] = [];
    const aims: Aim[] = [];
    for (const kind of kinds) {
      log(`console: ${kind.label}`);
      const times = await timePages(landlord.url, cookie, kind.paths, options.concurrency);
      const p95 = percentile(times, 95);
      rows.push([kind.label, fmt(percentile(times, 50), 1), fmt(p95, 1), fmt(percentile(times, 100), 0), String(times.length)]);
      aims.push({
        what: `${kind.label}: p95 < ${P95_AIM_MS} ms (${fmt(p95, 1)} ms)`,
        met: p95 < P95_AIM_MS,
        why: `${options.concurrency} requests at once from one signed-in session, with ${fmt(options.tenants, 0)} tenants`,
      });
    }
    const markdown = [
      `### console — ${fmt(options.tenants, 0)} tenants, ${options.requests} requests per page kind, ${options.concurrency} at once`,
      '',
      'Tenants seeded in SQL (with health rows); 200 of them with 30 days of hourly probe totals and 300 timeline entries. Times are whole HTML pages as a signed-in browser gets them over loopback (session check, key check, the queries, rendering).',
      '',
      table(['Page', 'p50 ms', 'p95 ms', 'max ms', 'requests'], rows),
      '',
    ].join('\n');
    return { name: 'console', markdown, aims: aims.map((aim) => (aim.met ? { what: aim.what, met: true } : aim)) };
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database?.drop();
  }
}
