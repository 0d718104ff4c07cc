import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pgAnswers } from './pg-answers.ts';
import { freePort } from './process.ts';

// A PostgreSQL server a test owns, to kill and restart at will (never the suite's shared
// server): Debian's binaries, a cluster initialised in a temporary directory, on a free
// loopback port. PostgreSQL refuses to run as root, and CI runs as root: then the
// server runs as the `postgres` system user (which Debian's package creates), or else
// as `nobody`.

/** A PostgreSQL server of the test's own. */
export interface OwnPostgres {
  /** A superuser URL of its `postgres` database. */
  url: string;
  port: number;
  /** The running postmaster's pid (undefined while the server is down). */
  pid(): number | undefined;
  /** The server's own log (startup, crash recovery), for failure messages. */
  output(): string;
  /** SIGKILLs the postmaster, as a host crash or the OOM killer would, and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  destroy(): Promise<void>;
}

/** The directory of Debian's PostgreSQL binaries (the newest version installed). */
export function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', 'postgres')) && existsSync(join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`No PostgreSQL binaries under ${root}: install Debian's "postgresql" package (.ci/run does)`);
  return join(root, versions[0], 'bin');
}

/** The user the server runs as: this process's own, or a system user when this process is root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (uid > 0) return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('Running as root, and neither a "postgres" nor a "nobody" user exists to run PostgreSQL as');
}

/** Initialises a cluster in a temporary directory and starts it. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinaries();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'landlord-own-pg-'));
  const dataDir = join(dir, 'data');
  if (user) await chown(dir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    ...asUser,
    cwd: dir,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' },
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let output = '';

  const spawnServer = () => {
    const child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=100',
        // A killed postmaster is a process crash, not an OS crash: the page cache survives, so fsync buys nothing here.
        '-c',
        'fsync=off',
      ],
      { ...asUser, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
    );
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-20_000);
    });
    return child;
  };

  const start = async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const child = spawnServer();
      server = child;
      const exited = once(child, 'exit');
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        if (await pgAnswers(url, 1000)) return;
        await Promise.race([sleep(50), exited]);
      }
      // Exited at once: the killed server's last backends still hold its shared memory. Try again.
      await sleep(100);
    }
    throw new Error(`PostgreSQL in ${dataDir} did not start within 30 s:\n${output}`);
  };
  const stopServer = async (signal: NodeJS.Signals) => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  // The test process dying must not leave a server behind.
  const orphanGuard = () => server?.kill('SIGKILL');
  process.on('exit', orphanGuard);

  await start();
  return {
    url,
    port,
    pid: () => (server && server.exitCode === null && server.signalCode === null ? server.pid : undefined),
    output: () => output,
    kill: () => stopServer('SIGKILL'),
    start,
    async destroy() {
      await stopServer('SIGINT');
      process.removeListener('exit', orphanGuard);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
