import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the bench creates its databases on (trust auth on loopback by default). */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database the bench created, dropped again at the end. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const created = new Set<BenchDatabase>();

/** `url` with its database name replaced. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

let admin: Promise<pg.Client> | undefined;

/**
 * The bench's one admin connection, opened once and kept: the server is shared with
 * other test runs, and a connection slot taken at the start is one the bench cannot
 * be refused later (when it needs to read CPU figures or drop its databases).
 */
function adminClient(): Promise<pg.Client> {
  admin ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, application_name: 'landlord-bench' });
    client.on('error', () => {
      admin = undefined;
    });
    client.on('end', () => {
      admin = undefined;
    });
    await client.connect();
    return client;
  })().catch((error) => {
    admin = undefined;
    throw error;
  });
  return admin;
}

/** Runs one query on the admin connection. */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await (await adminClient()).query<T>(text, values)).rows;
}

/** Closes the admin connection (at the very end). */
export async function closeAdmin(): Promise<void> {
  const pending = admin;
  admin = undefined;
  if (pending) await (await pending.catch(() => undefined))?.end().catch(() => {});
}

/** Creates a new, empty database named `landlord_bench_<label>_<random>`. */
export async function createDatabase(label: string): Promise<BenchDatabase> {
  const name = `landlord_bench_${label}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const database: BenchDatabase = {
    name,
    url: withDatabase(ADMIN_URL, name),
    drop: async () => {
      created.delete(database);
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
  created.add(database);
  return database;
}

/** Drops every database the bench created and has not dropped yet. */
export async function dropAll(): Promise<void> {
  for (const database of [...created]) await database.drop().catch((error) => console.error(`could not drop ${database.name}:`, error));
}

/** Runs `work` with one client connected to `url`, then closes it. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'landlord-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Connection slots PostgreSQL has free for ordinary roles right now. */
export async function freeConnections(): Promise<{ free: number; max: number }> {
  const [row] = await adminQuery<{ free: number; max: number }>(
    `select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
            - (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as free,
            current_setting('max_connections')::int as max`,
  );
  return { free: row?.free ?? 0, max: row?.max ?? 0 };
}

/**
 * Waits (up to `timeoutMs`) until PostgreSQL has `needed` free connection slots: the
 * server is shared with other test runs, and a scenario that starts without room for
 * its pools would measure connection errors. Fails with the numbers otherwise.
 */
export async function waitForConnections(needed: number, log: (line: string) => void, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const { free, max } = await freeConnections();
    if (free >= needed) return;
    if (Date.now() > deadline) {
      throw new Error(`PostgreSQL has ${free} of ${max} connections free and this scenario needs ${needed}; other clients hold the rest`);
    }
    if (!told) log(`waiting for ${needed} free PostgreSQL connections (${free} of ${max} free; other test runs hold the rest)…`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
