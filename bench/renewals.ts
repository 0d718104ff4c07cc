import { DEFAULT_RENEWAL_BATCH_SIZE } from '../src/config/config.ts';
import { measureCpu } from './cpu.ts';
import { createDatabase, withClient } from './database.ts';
import { ADMIN_KEY, call, expectCall, type Scavenges, scavengesOf, startLandlordProcess } from './landlord.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { fmt, latencies, ratio } from './stats.ts';

/** How many subscriptions the renewals scenario makes due at one instant. */
export interface RenewalsOptions {
  subscriptions: number;
  /** API reads per second while the renewals run. */
  readRate: number;
}

const RATIO_AIM = 0.5;
const TOTAL_AIM_S = 300;
const READ_P99_AIM_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The bare ceiling: one statement per batch of 500 that claims due subscriptions and writes the same rows the
// renewal does (period, invoice numbered from the product's counter, line, subscription update), in SQL only.
const CEILING_BATCH = `
  with claimed as (
    select id, product_id, tenant_id, price_id, amount_minor, currency, current_period_number, current_period_end
    from subscriptions where product_id = $1 and next_action_at <= now() order by next_action_at limit 500 for update skip locked),
  periods as (
    insert into subscription_periods (id, subscription_id, product_id, tenant_id, number, start_at, end_at, price_id, amount_minor, currency, trial, created_at)
    select gen_random_uuid(), id, product_id, tenant_id, current_period_number + 1, current_period_end, current_period_end + interval '1 day',
      price_id, amount_minor, currency, false, now() from claimed
    returning id, subscription_id, product_id, tenant_id, start_at, end_at, amount_minor, currency),
  bumped as (
    insert into invoice_counters as c (product_id, last_number) select $1, count(*) from periods
    on conflict (product_id) do update set last_number = c.last_number + excluded.last_number returning last_number),
  numbered as (
    select p.*, gen_random_uuid() as invoice_id, (select last_number from bumped) - count(*) over () + row_number() over (order by p.subscription_id) as number
    from periods p),
  invoiced as (
    insert into invoices (id, product_id, tenant_id, subscription_id, period_id, status, number, currency, total_minor, paid_minor, finalized_at, created_at, updated_at)
    select invoice_id, product_id, tenant_id, subscription_id, id, 'open', number, currency, amount_minor, 0, start_at, start_at, start_at from numbered
    returning 1),
  lines as (
    insert into invoice_lines (id, invoice_id, product_id, kind, source_key, description, quantity, amount_minor, currency, period_start, period_end, created_at)
    select gen_random_uuid(), invoice_id, product_id, 'period', 'period:' || id, 'Subscription period', 1, amount_minor, currency, start_at, end_at, start_at
    from numbered returning 1),
  updated as (
    update subscriptions s set current_period_number = c.current_period_number + 1, current_period_start = c.current_period_end,
      current_period_end = c.current_period_end + interval '1 day', next_action_at = c.current_period_end + interval '1 day',
      version = s.version + 1, updated_at = now()
    from claimed c where s.id = c.id returning 1)
  select (select count(*) from updated)::int as n, (select count(*) from invoiced)::int as i, (select count(*) from lines)::int as l`;

/** Seeds `count` tenants of a product, each with an active daily subscription that is not due yet. */
async function seed(databaseUrl: string, productId: string, priceId: string, prefix: string, count: number): Promise<void> {
  await withClient(databaseUrl, (client) =>
    client.query(
      `with t as (
         insert into tenants (id, product_id, name, display_name, plan_price_id)
         select gen_random_uuid(), $1, $3 || '-' || g, 'Seeded', $2 from generate_series(1, $4::int) as g
         returning id)
       insert into subscriptions (id, product_id, tenant_id, price_id, status, cycle_unit, cycle_count, amount_minor, currency, time_zone,
         anchor_at, start_at, current_period_number, current_period_start, current_period_end, next_action_at, created_at, updated_at)
       select gen_random_uuid(), $1, t.id, $2, 'active', 'day', 1, 1000, 'EUR', 'UTC', now(), now(), 0, now(), now() + interval '1 day', null, now(), now()
       from t`,
      [productId, priceId, prefix, count],
    ),
  );
}

/** Makes every subscription of a product due at one instant `delayMs` from now (its period 0 ends then); returns it. */
async function makeDue(databaseUrl: string, productId: string, delayMs: number): Promise<Date> {
  const [row] = await withClient(databaseUrl, async (client) => {
    const result = await client.query<{ at: Date }>(
      `with at as (select date_trunc('second', now() + $2 * interval '1 millisecond') as at)
       update subscriptions set anchor_at = at.at - interval '1 day', start_at = at.at - interval '1 day',
         current_period_start = at.at - interval '1 day', current_period_end = at.at, next_action_at = at.at
       from at where product_id = $1 returning at.at`,
      [productId, delayMs],
    );
    return result.rows.slice(0, 1);
  });
  if (!row) throw new Error('no subscription made due');
  return row.at;
}

async function invoices(databaseUrl: string, productId: string): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<{ n: string }>('select count(*) as n from invoices where product_id = $1', [productId]);
    return Number(result.rows[0]?.n ?? 0);
  });
}

/**
 * Cluster-wide counters of the server's writing: shared buffers that backends wrote out themselves to make room (the
 * cache full and the background writer behind), WAL written and the full-page images in it, and checkpoints. A
 * backend reports its counts when it goes idle or exits, so read them after the connections of a side have closed.
 * Each side starts right after a checkpoint; one that writes enough WAL (max_wal_size) sets off another meanwhile,
 * after which every page it first touches goes to the WAL whole.
 */
interface ServerWrites {
  backendPages: number;
  walBytes: number;
  fullPageImages: number;
  checkpoints: number;
}

async function serverWrites(databaseUrl: string): Promise<ServerWrites> {
  const none = { backendPages: Number.NaN, walBytes: Number.NaN, fullPageImages: Number.NaN, checkpoints: Number.NaN };
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<Record<keyof ServerWrites, string>>(
      `select b.buffers_backend as "backendPages", w.wal_bytes as "walBytes", w.wal_fpi as "fullPageImages",
         b.checkpoints_timed + b.checkpoints_req as checkpoints
       from pg_stat_bgwriter b, pg_stat_wal w`,
    );
    const row = result.rows[0];
    return row
      ? {
          backendPages: Number(row.backendPages),
          walBytes: Number(row.walBytes),
          fullPageImages: Number(row.fullPageImages),
          checkpoints: Number(row.checkpoints),
        }
      : none;
  }).catch(() => none);
}

/** What a side wrote per renewal (checkpoints: how many began while it ran). */
function writesPer(before: ServerWrites, after: ServerWrites, renewals: number): ServerWrites {
  return {
    backendPages: (after.backendPages - before.backendPages) / renewals,
    walBytes: (after.walBytes - before.walBytes) / renewals,
    fullPageImages: (after.fullPageImages - before.fullPageImages) / renewals,
    checkpoints: after.checkpoints - before.checkpoints,
  };
}

/** A table row of a measure taken on both sides, with no aim of its own. */
function compared(label: string, landlord: number, ceiling: number, digits: number): string[] {
  return [label, fmt(landlord, digits), fmt(ceiling, digits), ratio(landlord, ceiling), '', ''];
}

/** Runs the renewals scenario and returns its part of the results. */
export async function runRenewals(options: RenewalsOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('renewals');
  const started: Started[] = [];
  try {
    const first = await startLandlordProcess('renewals-setup', { DATABASE_URL: database.url, LANDLORD_HEALTH_CONCURRENCY: '0' });
    started.push(first.process);
    const ids: Record<string, { product: string; price: string }> = {};
    for (const name of ['landlord', 'ceiling']) {
      const product = await expectCall(201, first.url, 'POST', '/v1/products', {
        token: ADMIN_KEY,
        body: { name: `renew-${name}`, displayName: name, provisioning: { autoSendCreation: false } },
      });
      await expectCall(201, first.url, 'POST', `/v1/products/renew-${name}/plans`, {
        token: ADMIN_KEY,
        body: { name: 'pro', displayName: 'Pro' },
      });
      const price = await expectCall(201, first.url, 'POST', `/v1/products/renew-${name}/plans/pro/prices`, {
        token: ADMIN_KEY,
        body: { name: 'daily', cycle: 'day', amount: 1000, currency: 'EUR', published: true },
      });
      ids[name] = { product: product.data.id, price: price.data.id };
    }
    await first.process.stop();
    started.pop();
    const landlordIds = ids.landlord as { product: string; price: string };
    const ceilingIds = ids.ceiling as { product: string; price: string };
    log(`renewals: seeding 2 × ${options.subscriptions} subscriptions`);
    await seed(database.url, landlordIds.product, landlordIds.price, 'rl', options.subscriptions);
    await seed(database.url, ceilingIds.product, ceilingIds.price, 'rc', options.subscriptions);
    await withClient(database.url, (client) => client.query('vacuum analyze'));
    await withClient(database.url, (client) => client.query('checkpoint'));

    // The ceiling first, alone: one connection renewing batch after batch.
    log('renewals: bare SQL ceiling');
    const ceilingAt = await makeDue(database.url, ceilingIds.product, 1000);
    await sleep(Math.max(0, ceilingAt.getTime() - Date.now()) + 10);
    const ceilingWritesBefore = await serverWrites(database.url);
    const ceilingStart = performance.now();
    let ceilingCpu: Awaited<ReturnType<Awaited<ReturnType<typeof measureCpu>>['stop']>> | undefined;
    await withClient(database.url, async (client) => {
      const cpu = await measureCpu({}, database.name);
      for (;;) {
        await client.query('begin');
        const result = await client.query<{ n: number }>(CEILING_BATCH, [ceilingIds.product]);
        await client.query('commit');
        if ((result.rows[0]?.n ?? 0) === 0) break;
      }
      ceilingCpu = await cpu.stop();
    });
    const ceilingS = (performance.now() - ceilingStart) / 1000;
    const ceilingWrites = writesPer(ceilingWritesBefore, await serverWrites(database.url), options.subscriptions);
    if ((await invoices(database.url, ceilingIds.product)) !== options.subscriptions)
      throw new Error('the ceiling did not renew everything');
    // Landlord starts as the ceiling did: the ceiling's dead row versions cleaned up now, not by an autovacuum that
    // would run during Landlord's burst, and the statistics of the tables as they now are.
    await withClient(database.url, (client) => client.query('vacuum analyze'));

    // Landlord: one node; every subscription due at the same instant; API reads meanwhile.
    const landlord = await startLandlordProcess('renewals', {
      DATABASE_URL: database.url,
      LANDLORD_HEALTH_CONCURRENCY: '0',
      LANDLORD_DATABASE_POOL_SIZE: '12',
    });
    started.push(landlord.process);
    await withClient(database.url, (client) => client.query('checkpoint'));
    const dueAt = await makeDue(database.url, landlordIds.product, 3000);
    // CPU from now until the last invoice: Landlord's process and every backend of the database (its pool, the
    // bench's polling and reads), so the per-renewal figures slightly overstate both.
    const landlordWritesBefore = await serverWrites(database.url);
    const landlordCpu = await measureCpu({ landlord: landlord.process.pid }, database.name);
    const scavengesBefore = await scavengesOf(landlord.url);
    log(`renewals: ${options.subscriptions} due at ${dueAt.toISOString()}; Landlord renewing`);
    const reads: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const name = `rl-${1 + Math.floor(Math.random() * options.subscriptions)}`;
        const begun = performance.now();
        const answer = await call(landlord.url, 'GET', `/v1/tenants/${name}`, { token: ADMIN_KEY }).catch(() => undefined);
        if (answer?.status === 200) reads.push(performance.now() - begun);
        await sleep(1000 / options.readRate);
      }
    })();
    let doneAt = 0;
    const deadline = Date.now() + 15 * 60_000;
    // One connection for the polling, kept: on a shared server a new connection every 250 ms can be refused. It reads
    // the product's invoice counter, one row bumped in each batch's transaction, not count(*) over up to 100,000
    // invoices four times a second (PostgreSQL CPU the measurement would add to Landlord's).
    await withClient(database.url, async (client) => {
      while (Date.now() < deadline) {
        const result = await client.query<{ n: string }>('select last_number as n from invoice_counters where product_id = $1', [
          landlordIds.product,
        ]);
        if (Number(result.rows[0]?.n ?? 0) >= options.subscriptions) {
          doneAt = Date.now();
          return;
        }
        await sleep(250);
      }
    });
    const cpu = await landlordCpu.stop();
    reading = false;
    await reader;
    const scavengesAfter = await scavengesOf(landlord.url);
    const scavenges: Scavenges = {
      count: scavengesAfter.count - scavengesBefore.count,
      seconds: scavengesAfter.seconds - scavengesBefore.seconds,
      over10ms: scavengesAfter.over10ms - scavengesBefore.over10ms,
    };
    if (!doneAt) throw new Error('Landlord did not renew every subscription within 15 minutes');
    const landlordS = (doneAt - dueAt.getTime()) / 1000;
    const totals = await withClient(database.url, async (client) => {
      const result = await client.query<{ periods: string; bad: string; numbers: string }>(
        `select (select count(*) from subscription_periods where product_id = $1) as periods,
           (select count(*) from subscriptions where product_id = $1 and current_period_number <> 1) as bad,
           (select count(distinct number) from invoices where product_id = $1) as numbers`,
        [landlordIds.product],
      );
      return result.rows[0];
    });
    await landlord.process.stop();
    started.pop();
    const landlordWrites = writesPer(landlordWritesBefore, await serverWrites(database.url), options.subscriptions);
    const cpuUs = {
      landlord: ((cpu.processMs.landlord ?? 0) * 1000) / options.subscriptions,
      landlordPg: (cpu.postgresMs * 1000) / options.subscriptions,
      ceilingPg: ((ceilingCpu?.postgresMs ?? 0) * 1000) / options.subscriptions,
    };
    log(
      `renewals: CPU per renewal — Landlord ${cpuUs.landlord.toFixed(0)} µs + PostgreSQL ${cpuUs.landlordPg.toFixed(0)} µs; ceiling PostgreSQL ${cpuUs.ceilingPg.toFixed(0)} µs`,
    );
    return report(options, {
      landlordS,
      ceilingS,
      reads: latencies(reads),
      scavenges,
      totals,
      cpuUs,
      writes: { landlord: landlordWrites, ceiling: ceilingWrites },
    });
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

function report(
  options: RenewalsOptions,
  run: {
    landlordS: number;
    ceilingS: number;
    reads: ReturnType<typeof latencies>;
    /** Landlord's scavenges from the instant the subscriptions fell due until the last invoice (and the last read). */
    scavenges?: Scavenges;
    totals?: { periods: string; bad: string; numbers: string };
    cpuUs?: { landlord: number; landlordPg: number; ceilingPg: number };
    writes?: { landlord: ServerWrites; ceiling: ServerWrites };
  },
): ScenarioReport {
  const n = options.subscriptions;
  const landlordRate = n / run.landlordS;
  const ceilingRate = n / run.ceilingS;
  const rate = landlordRate / ceilingRate;
  const exact = run.totals && Number(run.totals.periods) === n && Number(run.totals.bad) === 0 && Number(run.totals.numbers) === n;
  const rows = [
    [
      'renewals/s',
      fmt(landlordRate, 0),
      fmt(ceilingRate, 0),
      ratio(landlordRate, ceilingRate),
      `≥ ${RATIO_AIM}×`,
      rate >= RATIO_AIM ? 'met' : '**missed**',
    ],
    [
      `all ${fmt(n, 0)} renewed, s`,
      fmt(run.landlordS, 1),
      fmt(run.ceilingS, 1),
      '',
      `< ${TOTAL_AIM_S} s`,
      run.landlordS < TOTAL_AIM_S ? 'met' : '**missed**',
    ],
    [
      `GET /v1/tenants/{name} p99 meanwhile, ms (${run.reads.count} reads)`,
      fmt(run.reads.p99, 1),
      '',
      '',
      `< ${READ_P99_AIM_MS} ms`,
      run.reads.p99 < READ_P99_AIM_MS ? 'met' : '**missed**',
    ],
    ['GET p50, ms', fmt(run.reads.p50, 1), '', '', '', ''],
    ...(run.scavenges && Number.isFinite(run.scavenges.count)
      ? [
          [
            'Landlord’s scavenges (young-generation garbage collections) meanwhile: count / ms in all / over 10 ms',
            `${fmt(run.scavenges.count, 0)} / ${fmt(run.scavenges.seconds * 1000, 0)} / ${fmt(run.scavenges.over10ms, 0)}`,
            '',
            '',
            '',
            '',
          ],
        ]
      : []),
    ...(run.cpuUs
      ? [
          ['server CPU per renewal, µs', fmt(run.cpuUs.landlord, 0), '0', '', '', ''],
          compared('PostgreSQL CPU per renewal, µs', run.cpuUs.landlordPg, run.cpuUs.ceilingPg, 0),
        ]
      : []),
    ...(run.writes && Number.isFinite(run.writes.landlord.backendPages)
      ? [
          compared(
            'pages PostgreSQL backends wrote out themselves to make room in shared_buffers, per renewal',
            run.writes.landlord.backendPages,
            run.writes.ceiling.backendPages,
            2,
          ),
          compared('WAL per renewal, bytes', run.writes.landlord.walBytes, run.writes.ceiling.walBytes, 0),
          compared('full-page images in the WAL per renewal', run.writes.landlord.fullPageImages, run.writes.ceiling.fullPageImages, 2),
          [
            'checkpoints begun during the run (each side starts after one)',
            fmt(run.writes.landlord.checkpoints, 0),
            fmt(run.writes.ceiling.checkpoints, 0),
            '',
            '',
            '',
          ],
        ]
      : []),
  ];
  const aims: Aim[] = [
    {
      what: `renewals ≥ ${RATIO_AIM}× the bare SQL ceiling (${rate.toFixed(2)}×)`,
      met: rate >= RATIO_AIM,
      why: `besides the four rows the ceiling writes, each renewal locks and updates its tenant (its event sequence; the order plan changes lock in), computes its boundary on the calendar module, writes three events in the tenant’s sequence (subscription renewed, invoice created, invoice finalized) with their JSON, each queued for the event sequencer (a row of \`events_pending\`, by trigger) that then numbers it in \`event_feed\` and creates its deliveries, and the batch travels as JSON parameters.${
        run.writes && Number.isFinite(run.writes.landlord.backendPages)
          ? ` That working set overflows this server's shared_buffers: its backends wrote out ${fmt(run.writes.landlord.backendPages, 1)} pages per renewal themselves to make room, against ${fmt(run.writes.ceiling.backendPages, 1)} for the ceiling; it wrote ${fmt(run.writes.landlord.walBytes / Math.max(1, run.writes.ceiling.walBytes), 1)}× the ceiling's WAL per renewal, and ${fmt(run.writes.landlord.checkpoints, 0)} checkpoint(s) began during Landlord's run against ${fmt(run.writes.ceiling.checkpoints, 0)} during the ceiling's.`
          : ''
      }`,
    },
    { what: `${fmt(n, 0)} subscriptions renewed within ${TOTAL_AIM_S} s (${fmt(run.landlordS, 1)} s)`, met: run.landlordS < TOTAL_AIM_S },
    {
      what: `API reads p99 < ${READ_P99_AIM_MS} ms meanwhile (${fmt(run.reads.p99, 1)} ms)`,
      met: run.reads.p99 < READ_P99_AIM_MS,
      why: `the reads share the 2 cores with the renewal batches (Landlord building each batch, PostgreSQL writing it); the median read is unaffected, the slowest wait behind a batch${
        run.scavenges && run.scavenges.count > 0
          ? `, or behind a scavenge: Landlord made ${fmt(run.scavenges.count, 0)} meanwhile, ${fmt((run.scavenges.seconds * 1000) / run.scavenges.count, 1)} ms each on average, ${fmt(run.scavenges.over10ms, 0)} of them over 10 ms, because a scavenge copies what is live, and what is live then is the batches in flight`
          : ''
      }.`,
    },
    { what: 'exactly one period and one invoice number per subscription', met: Boolean(exact) },
  ];
  const markdown = [
    `### renewals — ${fmt(n, 0)} daily subscriptions due at one instant, one node`,
    '',
    `Landlord: \`node src/cli.ts start\` (health probing off, pool of 12), the renewals sweep with its default batch (two transactions of ${DEFAULT_RENEWAL_BATCH_SIZE / 2} in flight, each claimed \`FOR UPDATE SKIP LOCKED\` and written by one statement: every period, invoice, line, event and subscription update of the batch); time from the instant they fell due until the last invoice exists, with \`GET /v1/tenants/{name}\` at a steady rate meanwhile. Ceiling: one connection in the bench process running a single SQL statement per batch of 500 that claims and writes the same period, invoice (numbered from the same counter), line and subscription update, no events, no application code — on as many other subscriptions, in the same database, before Landlord starts.`,
    '',
    table(['Measure', 'Landlord', 'Bare SQL (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    `Check after the run: ${run.totals?.periods ?? '?'} periods, ${run.totals?.numbers ?? '?'} distinct invoice numbers, ${run.totals?.bad ?? '?'} subscriptions not at period 1.`,
    '',
  ].join('\n');
  return { name: 'renewals', markdown, aims };
}
