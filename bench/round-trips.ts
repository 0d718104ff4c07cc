import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ADMIN_URL, withDatabase } from './database.ts';
import { call } from './landlord.ts';
import { freePort, ROOT, type Started, startNode, waitForOutput } from './processes.ts';
import { percentile } from './stats.ts';

/** What the counting proxy has seen so far. */
export interface Counts {
  roundTrips: number;
  statements: number;
}

/** A running counting proxy (`bench/pg-counter.ts`) in front of the bench's PostgreSQL server. */
export interface RoundTripCounter {
  /** A connection string for `database` that goes through the proxy. */
  urlFor(database: string): string;
  counts(): Promise<Counts>;
  /** Round trips per second while nothing but background work runs (timers, polling). */
  idleRate(ms?: number): Promise<number>;
  /** The proxy's control endpoint. */
  controlUrl: string;
  process: Started;
}

/** Starts the counting proxy as its own process. */
export async function startRoundTripCounter(): Promise<RoundTripCounter> {
  const target = new URL(ADMIN_URL);
  const [port, controlPort] = [await freePort(), await freePort()];
  const started = startNode('pg-counter', join(ROOT, 'bench', 'pg-counter.ts'), {
    env: {
      PORT: String(port),
      CONTROL_PORT: String(controlPort),
      TARGET_HOST: target.hostname,
      TARGET_PORT: target.port || '5432',
    },
  });
  await waitForOutput(started, /pg-counter ready/);
  const counts = async (): Promise<Counts> => (await call(`http://127.0.0.1:${controlPort}`, 'GET', '/counts')).body;
  return {
    process: started,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    urlFor: (database) => {
      const url = new URL(withDatabase(ADMIN_URL, database));
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    counts,
    idleRate: async (ms = 2000) => {
      const before = await counts();
      await sleep(ms);
      return (((await counts()).roundTrips - before.roundTrips) * 1000) / ms;
    },
  };
}

/**
 * Round trips per operation: runs `operation` `times` times one after the other and
 * divides what the proxy saw, less the background rate over the same time.
 */
export async function tripsPer(
  counter: RoundTripCounter,
  idlePerSecond: number,
  times: number,
  operation: (index: number) => Promise<void>,
): Promise<{ trips: number; statements: number; latencyMs: number }> {
  const before = await counter.counts();
  const started = performance.now();
  for (let index = 0; index < times; index++) await operation(index);
  const elapsed = performance.now() - started;
  const after = await counter.counts();
  const background = (idlePerSecond * elapsed) / 1000;
  return {
    trips: (after.roundTrips - before.roundTrips - background) / times,
    statements: (after.statements - before.statements - background) / times,
    latencyMs: elapsed / times,
  };
}

/** The statements of one run of an operation: those before it answered, and the work it set off afterwards. */
export interface Statements {
  /** Described in a few words ("select tenants+products"), until the operation resolved. */
  during: string[];
  /** Described likewise: what ran in the `settleMs` after it (event sequencing, jobs…), background included. */
  after: string[];
  /** The SQL text of `during`, as sent. */
  raw: string[];
  /** Transactions (commits, so WAL flushes) in `during`, counted per connection. */
  commits: number;
}

type Recorded = [connection: number, text: string] | null;

async function recorded(counter: RoundTripCounter): Promise<Recorded[]> {
  return (await call(counter.controlUrl, 'GET', '/recorded')).body;
}

/** Records the statements of one run of `operation`, waiting `settleMs` before (for quiet) and after it. */
export async function statementsOf(counter: RoundTripCounter, operation: () => Promise<void>, settleMs = 0): Promise<Statements> {
  if (settleMs) await sleep(settleMs);
  await call(counter.controlUrl, 'POST', '/record');
  await operation();
  await call(counter.controlUrl, 'POST', '/mark');
  if (settleMs) await sleep(settleMs);
  const all = await recorded(counter);
  const mark = all.indexOf(null);
  const during = (mark < 0 ? all : all.slice(0, mark)).filter((entry) => entry !== null);
  const after = mark < 0 ? [] : all.slice(mark + 1).filter((entry) => entry !== null);
  return {
    during: during.map(([, text]) => describeSql(text)),
    after: after.map(([, text]) => describeSql(text)),
    raw: during.map(([, text]) => text),
    commits: commitsIn(during),
  };
}

/** The statements (described) each proxy saw while `operation` ran and for `settleMs` after it. */
export async function statementsAcross(
  counters: RoundTripCounter[],
  operation: () => Promise<void>,
  settleMs: number,
): Promise<string[][]> {
  for (const counter of counters) await call(counter.controlUrl, 'POST', '/record');
  await operation();
  await sleep(settleMs);
  const lists = await Promise.all(counters.map(recorded));
  return lists.map((list) => list.filter((entry) => entry !== null).map(([, text]) => describeSql(text)));
}

/** The SQL text of every statement one proxy saw while `operation` ran. */
export async function rawStatements(counter: RoundTripCounter, operation: () => Promise<void>): Promise<string[]> {
  await call(counter.controlUrl, 'POST', '/record');
  await operation();
  return (await recorded(counter)).filter((entry) => entry !== null).map(([, text]) => text);
}

/** Statement → how many times, most first. */
export function tally(statements: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const statement of statements) counts.set(statement, (counts.get(statement) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** How many transactions (each a commit, so a WAL flush) recorded statements make, connection by connection. */
function commitsIn(entries: readonly [number, string][]): number {
  let commits = 0;
  const inTransaction = new Set<number>();
  for (const [connection, text] of entries) {
    const statement = describeSql(text);
    if (statement === 'begin') inTransaction.add(connection);
    else if (statement === 'commit' || statement === 'rollback') {
      commits++;
      inTransaction.delete(connection);
    } else if (
      !inTransaction.has(connection) &&
      !statement.startsWith('select ') &&
      !['pg_notify', 'pg_try_advisory_xact_lock'].includes(statement)
    ) {
      commits++;
    }
  }
  return commits;
}

/** Median planning and execution time (ms) PostgreSQL reports for a statement, over `times` runs. */
export async function planAndRun(
  url: string,
  text: string,
  values: unknown[],
  times = 30,
): Promise<{ planningMs: number; executionMs: number }> {
  const client = new pg.Client({ connectionString: url, application_name: 'landlord-bench' });
  await client.connect();
  try {
    const planning: number[] = [];
    const execution: number[] = [];
    for (let run = 0; run < times; run++) {
      const { rows } = await client.query(`explain (analyze, summary, format json) ${text}`, values);
      const [plan] = rows[0]['QUERY PLAN'] as { 'Planning Time': number; 'Execution Time': number }[];
      planning.push(plan?.['Planning Time'] ?? Number.NaN);
      execution.push(plan?.['Execution Time'] ?? Number.NaN);
    }
    return { planningMs: percentile(planning, 50), executionMs: percentile(execution, 50) };
  } finally {
    await client.end();
  }
}

/** A statement in a few words: its verb and the tables it touches. */
export function describeSql(text: string): string {
  const sql = text.replace(/\s+/g, ' ').trim().toLowerCase();
  const name = (raw: string | undefined) =>
    (raw ?? '?')
      .replaceAll('"', '')
      .replace(/^public\./, '')
      .replace(/^graphile_worker\._private_/, 'gw.');
  const table = '((?:"?\\w+"?\\.)?"?\\w+"?)';
  // graphile-worker's own statements, by what they do.
  if (sql.includes('graphile_worker') && sql.includes('locked_by = $1') && sql.startsWith('with')) return 'get_job (graphile-worker)';
  if (/^(with .*)?delete from "?graphile_worker"?\."?_private_jobs/.test(sql) || sql.includes('complete_jobs'))
    return 'complete_job (graphile-worker)';
  const fn = /^select ((?:graphile_worker\.)?[a-z_]+)\(/.exec(sql);
  if (fn && !/ from /.test(sql)) return name(fn[1]);
  const found = [...sql.matchAll(new RegExp(`(?<!for |do )(insert into|update|delete from) ${table}`, 'g'))];
  // An insert is "on conflict" when its own clause (up to the next write) says so.
  const writes = found.map((write, index) => {
    const clause = sql.slice(write.index, found[index + 1]?.index ?? sql.length);
    return `${write[1]?.split(' ')[0]} ${name(write[2])}${write[1] === 'insert into' && clause.includes(' on conflict ') ? ' (on conflict)' : ''}`;
  });
  if (writes.length && !sql.startsWith('select')) return [...new Set(writes)].join(' + ');
  if (sql.startsWith('select') || sql.startsWith('with')) {
    const tables = [...sql.matchAll(new RegExp(` (?:from|join) ${table}`, 'g'))].map((found) => name(found[1]));
    return `select ${[...new Set(tables)].join('+') || sql.slice(7, 40)}${sql.includes(' for update') ? ' for update' : ''}`;
  }
  return sql.split(' ').slice(0, 2).join(' ');
}
