/**
 * events: events fanned out to 5 subscribed endpoints on a loopback receiver, signed
 * and delivered by Landlord — beside the ceiling, a bare undici loop POSTing the same
 * bodies to the same receiver with the same concurrency.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Agent, request } from 'undici';
import { measureCpu } from './cpu.ts';
import { type BenchDatabase, createDatabase } from './database.ts';
import { ADMIN_KEY, call, expectCall, startLandlordProcess } from './landlord.ts';
import { freePort, ROOT, type Started, startNode, waitForOutput } from './processes.ts';
import { type ScenarioReport, table } from './report.ts';
import { fmt, inParallel, latencies, ratio } from './stats.ts';

/** The sizes of the events scenario. */
export interface EventsOptions {
  events: number;
  endpoints: number;
  pacedRate: number;
  pacedSeconds: number;
}

/** Deliveries each endpoint takes at once (Landlord's default `maxConcurrency`). */
const PER_ENDPOINT = 10;
const BATCH = 100;

interface Receiver {
  process: Started;
  url: string;
  count(): Promise<number>;
  arrivals(): Promise<Map<string, number>>;
  reset(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const port = await freePort();
  const process = startNode('receiver', join(ROOT, 'bench', 'receiver.ts'), { env: { PORT: String(port) } });
  await waitForOutput(process, /receiver ready/);
  const url = `http://127.0.0.1:${port}`;
  return {
    process,
    url,
    count: async () => (await call(url, 'GET', '/_bench/count')).body.count,
    arrivals: async () => new Map((await call(url, 'GET', '/_bench/stats')).body.arrivals as [string, number][]),
    reset: async () => void (await call(url, 'POST', '/_bench/reset')),
  };
}

async function waitForCount(receiver: Receiver, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await receiver.count();
    if (count >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${count} of ${expected} deliveries arrived within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Records `count` events the way Landlord's own writers do (insert + NOTIFY, in
 * transactions of `BATCH`), and returns each event's id with the time its
 * transaction's COMMIT returned.
 */
async function recordEvents(client: pg.Client, productId: string, count: number, prefix: string): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  for (let start = 0; start < count; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, count - start) }, () => randomUUID());
    await client.query('begin');
    await client.query(
      `insert into events (id, type, product_id, data)
       select id, 'product.updated', $2::uuid, jsonb_build_object('product', jsonb_build_object('id', $2::text, 'bench', $3::text))
       from unnest($1::uuid[]) as id`,
      [ids, productId, prefix],
    );
    await client.query(`select pg_notify('landlord_events', '')`);
    await client.query('commit');
    const at = Date.now();
    for (const id of ids) committed.set(id, at);
  }
  return committed;
}

/** Commit → arrival at the receiver, per delivery, ms. */
function deliveryDelays(committed: Map<string, number>, arrivals: Map<string, number>): number[] {
  const delays: number[] = [];
  for (const [key, at] of arrivals) {
    const id = key.slice(key.indexOf('|') + 1);
    const start = committed.get(id);
    if (start !== undefined) delays.push(at - start);
  }
  return delays;
}

/** The ceiling: the same POSTs (same size of body, signed-looking headers) with the same concurrency, by a bare undici loop. */
async function runCeiling(receiver: Receiver, deliveries: number, endpoints: number): Promise<{ perSecond: number; seconds: number }> {
  await receiver.reset();
  const agent = new Agent({ connections: PER_ENDPOINT, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({
    id: randomUUID(),
    type: 'product.updated',
    occurredAt: new Date().toISOString(),
    productId: randomUUID(),
    tenantId: null,
    tenantSequence: null,
    data: { product: { id: randomUUID(), bench: 'ceiling' } },
  });
  const work = Array.from({ length: deliveries }, (_, index) => index);
  const started = performance.now();
  await inParallel(work, PER_ENDPOINT * endpoints, async (index) => {
    const response = await request(`${receiver.url}/e${index % endpoints}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'webhook-id': `c${index}`, 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
      body,
    });
    await response.body.dump();
  });
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return { perSecond: deliveries / seconds, seconds };
}

/** Runs the events scenario and returns its part of the results. */
export async function runEvents(options: EventsOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const receiver = await startReceiver();
  const started: Started[] = [receiver.process];
  let database: BenchDatabase | undefined;
  try {
    const deliveries = options.events * options.endpoints;
    log(`events: ceiling — bare undici, ${deliveries} POSTs`);
    const ceiling = await runCeiling(receiver, deliveries, options.endpoints);

    database = await createDatabase('events');
    const landlord = await startLandlordProcess('events', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const product = await expectCall(201, landlord.url, 'POST', '/v1/products', {
      token: ADMIN_KEY,
      body: { name: 'bench', displayName: 'Bench' },
    });
    for (let index = 0; index < options.endpoints; index++) {
      await expectCall(201, landlord.url, 'POST', '/v1/webhook-endpoints', {
        token: ADMIN_KEY,
        body: { url: `${receiver.url}/e${index}`, product: 'bench' },
      });
    }
    const pg2 = new pg.Client({ connectionString: database.url, application_name: 'landlord-bench-writer' });
    await pg2.connect();
    try {
      log('events: warm-up');
      await receiver.reset();
      await recordEvents(pg2, product.data.id, 500, 'warm');
      await waitForCount(receiver, 500 * options.endpoints, 120_000);

      log(`events: burst — ${options.events} events × ${options.endpoints} endpoints`);
      await receiver.reset();
      const cpu = await measureCpu({ landlord: landlord.process.pid }, database.name);
      const burstStart = performance.now();
      const burstCommitted = await recordEvents(pg2, product.data.id, options.events, 'burst');
      await waitForCount(receiver, deliveries, 600_000);
      const burstSeconds = (performance.now() - burstStart) / 1000;
      const used = await cpu.stop();
      const burstDelays = latencies(deliveryDelays(burstCommitted, await receiver.arrivals()));

      log(`events: paced — ${options.pacedRate} events/s for ${options.pacedSeconds} s`);
      await receiver.reset();
      const pacedCommitted = new Map<string, number>();
      const tickMs = 100;
      const perTick = Math.max(1, Math.round((options.pacedRate * tickMs) / 1000));
      const ticks = Math.round((options.pacedSeconds * 1000) / tickMs);
      const pacedStart = Date.now();
      for (let tick = 0; tick < ticks; tick++) {
        for (const [id, at] of await recordEvents(pg2, product.data.id, perTick, 'paced')) pacedCommitted.set(id, at);
        const next = pacedStart + (tick + 1) * tickMs;
        if (next > Date.now()) await sleep(next - Date.now());
      }
      const offered = pacedCommitted.size / ((Date.now() - pacedStart) / 1000);
      await waitForCount(receiver, pacedCommitted.size * options.endpoints, 120_000);
      const paced = latencies(deliveryDelays(pacedCommitted, await receiver.arrivals()));

      const rate = deliveries / burstSeconds;
      const throughputMet = rate >= 0.5 * ceiling.perSecond;
      const latencyMet = paced.p99 < 200;
      const markdown = [
        `${options.events.toLocaleString('en-US')} events recorded in transactions of ${BATCH} (insert + NOTIFY, as Landlord's writers do), each delivered to ${options.endpoints} endpoints on a loopback receiver (${PER_ENDPOINT} in flight per endpoint). Landlord sequences them, creates the deliveries, signs each (HMAC-SHA256, Standard Webhooks) and POSTs it through the egress-checked client, recording every attempt. The ceiling POSTs the same number of same-sized bodies with the same concurrency and no database at all.`,
        '',
        table(
          ['', 'deliveries', 'seconds', 'deliveries/s', 'commit → receipt p50 / p99 ms'],
          [
            ['bare undici loop (ceiling)', fmt(deliveries, 0), fmt(ceiling.seconds), fmt(ceiling.perSecond, 0), '–'],
            [
              'Landlord, burst',
              fmt(deliveries, 0),
              fmt(burstSeconds),
              fmt(rate, 0),
              `${fmt(burstDelays.p50, 0)} / ${fmt(burstDelays.p99, 0)}`,
            ],
            [
              `Landlord, paced ${fmt(offered, 0)} events/s`,
              fmt(pacedCommitted.size * options.endpoints, 0),
              fmt(options.pacedSeconds),
              '–',
              `${fmt(paced.p50, 0)} / ${fmt(paced.p99, 0)}`,
            ],
          ],
        ),
        '',
        `Landlord/ceiling: **${ratio(rate, ceiling.perSecond)}**. During the burst Landlord used ${fmt((used.processMs.landlord ?? 0) / used.wallMs, 2)} of a core and its PostgreSQL backends ${fmt(used.postgresMs / used.wallMs, 2)}.`,
      ].join('\n');
      return {
        name: 'events',
        markdown,
        aims: [
          {
            what: 'deliveries/s ≥ 0.5 × bare undici loop',
            met: throughputMet,
            ...(throughputMet
              ? {}
              : {
                  why: `Landlord delivered ${fmt(rate, 0)}/s against ${fmt(ceiling.perSecond, 0)}/s: each delivery also costs its share of sequencing, fan-out, signing and the batched attempt records, on the same 2 cores as PostgreSQL and the receiver.`,
                }),
          },
          {
            what: `p99 commit → receipt < 200 ms at ${options.pacedRate} events/s`,
            met: latencyMet,
            ...(latencyMet ? {} : { why: `p99 was ${fmt(paced.p99, 0)} ms.` }),
          },
        ],
      };
    } finally {
      await pg2.end();
    }
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database?.drop();
  }
}
