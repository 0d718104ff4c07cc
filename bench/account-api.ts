import type { Request } from 'autocannon';
import { createDatabase } from './database.ts';
import { ADMIN_KEY, expectCall, startLandlordProcess } from './landlord.ts';
import { type Load, measureLoad, startBareServer } from './load.ts';
import type { Started } from './processes.ts';
import type { Aim, ScenarioReport } from './report.ts';
import { table } from './report.ts';
import { fmt, versusRow } from './stats.ts';

/** How hard and how long the account-api scenario pushes. */
export interface AccountApiOptions {
  /** Groups created through the marketplace API, read and billed at random. */
  groups: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

const BILL_AIM = 0.5;
const READ_AIM = 0.6;

/**
 * Maestrano's account API against the bare ceiling: `POST /api/v1/account/bills` (JSON, as
 * the Java SDK) and `GET /api/v1/account/groups/{id}`, HTTP Basic `api.id:api.key`.
 */
export async function runAccountApi(options: AccountApiOptions, log: (line: string) => void): Promise<ScenarioReport> {
  const database = await createDatabase('account');
  const started: Started[] = [];
  try {
    const landlord = await startLandlordProcess('account', { DATABASE_URL: database.url });
    started.push(landlord.process);
    const token = { token: ADMIN_KEY };
    await expectCall(201, landlord.url, 'POST', '/v1/products', {
      ...token,
      body: { name: 'bench', displayName: 'Bench', provisioning: { autoSendCreation: false } },
    });
    const marketplace = await expectCall(201, landlord.url, 'POST', '/v1/products/bench/marketplaces', {
      ...token,
      body: {
        marketplace: 'maestrano',
        nid: 'bench-app',
        environment: 'bench',
        app: { host: 'http://127.0.0.1:9' },
        sso: { init_path: '/maestrano/init', consume_path: '/maestrano/consume' },
        webhooks: { account: { group_path: '/groups/:id', group_user_path: '/groups/:group_id/users/:id' } },
      },
    });
    const groups: string[] = [];
    for (let index = 0; index < options.groups; index++) {
      const group = await expectCall(201, landlord.url, 'POST', `/v1/marketplaces/${marketplace.data.id}/groups`, {
        ...token,
        body: { name: `Group ${index}`, currency: 'AUD', email: `g${index}@example.com` },
      });
      groups.push(group.data.uid);
    }
    const basic = `Basic ${Buffer.from(`${marketplace.data.apiId}:${marketplace.data.apiKey}`).toString('base64')}`;
    const bare = await startBareServer('bare-account.ts', database.url);
    started.push(bare.process);
    log(`account-api: ${options.groups} groups created; measuring`);

    const pick = () => groups[Math.floor(Math.random() * groups.length)] as string;
    const json = { 'content-type': 'application/json', accept: 'application/json' };
    const bill = () => JSON.stringify({ group_id: pick(), price_cents: 2000, description: 'Product purchase' });
    const pids = { landlord: landlord.process.pid, bare: bare.process.pid };
    const load = (url: string, server: 'landlord' | 'bare', make: () => Request) =>
      measureLoad(url, server, make, pids, database.name, options);
    // Bare first, then Landlord; reads before writes, so the reads see the same table sizes.
    const bareRead = await load(bare.url, 'bare', () => ({
      method: 'GET',
      path: `/groups/${pick()}`,
      headers: { accept: 'application/json' },
    }));
    const landlordRead = await load(landlord.url, 'landlord', () => ({
      method: 'GET',
      path: `/api/v1/account/groups/${pick()}`,
      headers: { authorization: basic, accept: 'application/json' },
    }));
    const bareBill = await load(bare.url, 'bare', () => ({ method: 'POST', path: '/bills', headers: json, body: bill() }));
    const landlordBill = await load(landlord.url, 'landlord', () => ({
      method: 'POST',
      path: '/api/v1/account/bills',
      headers: { ...json, authorization: basic },
      body: bill(),
    }));
    return report(options, { landlordRead, bareRead, landlordBill, bareBill });
  } finally {
    for (const process of started.reverse()) await process.stop();
    await database.drop();
  }
}

function report(options: AccountApiOptions, load: Record<'landlordRead' | 'bareRead' | 'landlordBill' | 'bareBill', Load>): ScenarioReport {
  const billRate = load.landlordBill.perSecond / load.bareBill.perSecond;
  const readRate = load.landlordRead.perSecond / load.bareRead.perSecond;
  const rows = [
    versusRow('POST bills — req/s', load.landlordBill.perSecond, load.bareBill.perSecond, 0, `≥ ${BILL_AIM}×`, billRate >= BILL_AIM),
    versusRow('POST bills — p99 latency, ms', load.landlordBill.p99, load.bareBill.p99, 1),
    versusRow('POST bills — server CPU per request, µs', load.landlordBill.serverUs, load.bareBill.serverUs, 0),
    versusRow('POST bills — PostgreSQL CPU per request, µs', load.landlordBill.postgresUs, load.bareBill.postgresUs, 0),
    versusRow('GET groups/{id} — req/s', load.landlordRead.perSecond, load.bareRead.perSecond, 0, `≥ ${READ_AIM}×`, readRate >= READ_AIM),
    versusRow('GET groups/{id} — p99 latency, ms', load.landlordRead.p99, load.bareRead.p99, 1),
    versusRow('GET groups/{id} — server CPU per request, µs', load.landlordRead.serverUs, load.bareRead.serverUs, 0),
    versusRow('GET groups/{id} — PostgreSQL CPU per request, µs', load.landlordRead.postgresUs, load.bareRead.postgresUs, 0),
  ];
  const failures = Object.values(load).reduce((sum, one) => sum + one.failed, 0);
  const billWhy = `a bill is two statements in Landlord, no transaction (the group with its tenant, subscription and billing zone for the currency and invoice time; then the group re-checked under its lock, the insert, the audit record and the bill.created event, committed without a NOTIFY; the sequencer is nudged after it) against one insert for the bare server: ${fmt(load.landlordBill.serverUs, 0)} µs of Landlord CPU and ${fmt(load.landlordBill.postgresUs, 0)} µs of PostgreSQL per bill against ${fmt(load.bareBill.serverUs, 0)} and ${fmt(load.bareBill.postgresUs, 0)}.`;
  const readWhy = `a read is the credential check (the marketplace from the node's cache, the key's SHA-256) and the group with its subscription's trial end in one prepared statement built once, against one select for the bare server: ${fmt(load.landlordRead.serverUs, 0)} µs of Landlord CPU per read against ${fmt(load.bareRead.serverUs, 0)}.`;
  const aims: Aim[] = [
    { what: `POST /api/v1/account/bills ≥ ${BILL_AIM}× bare req/s (${billRate.toFixed(2)}×)`, met: billRate >= BILL_AIM, why: billWhy },
    {
      what: `GET /api/v1/account/groups/{id} ≥ ${READ_AIM}× bare req/s (${readRate.toFixed(2)}×)`,
      met: readRate >= READ_AIM,
      why: readWhy,
    },
  ];
  const markdown = [
    `### account-api — ${options.groups} groups of one marketplace, ${options.connections} connections, ${options.durationS} s per run after ${options.warmupS} s warm-up`,
    '',
    'Landlord: `node src/cli.ts start` (rate limit off, log level warn); HTTP Basic `api.id:api.key` on every request; a bill is JSON `{group_id, price_cents, description}` for a random group. Bare: `bench/bare-account.ts` (Fastify + pg, same database, tables and pool size; one select, or one insert … returning, no auth, audit or events).',
    '',
    table(['Measure', 'Landlord', 'Bare (ceiling)', 'Landlord / bare', 'Aim', 'Result'], rows),
    '',
    failures ? `${failures} requests failed or timed out.` : '',
    '',
  ].join('\n');
  return { name: 'account-api', markdown, aims };
}
