import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { freePort } from '../../test/helpers/process.ts';
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.ts';
import { AppError } from '../errors/app-error.ts';
import { isDatabaseUnavailable } from './unavailable.ts';

// Every error here is provoked for real, with the pg and pg-pool in node_modules, against
// the suite's PostgreSQL through a loopback proxy this file cuts (the server itself is
// never touched), or against a port nothing or a silent peer listens on.

let database: TestDatabase;
let proxy: TcpProxy;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startTcpProxy(Number(new URL(database.url).port));
});
afterAll(async () => {
  await proxy?.close();
  await database?.drop();
});

const throughProxy = () => {
  const url = new URL(database.url);
  url.port = String(proxy.port);
  return url.toString();
};

/** The error `work` rejects with. */
async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('isDatabaseUnavailable, on errors pg and pg-pool really raise', () => {
  it('recognises a refused connection (ECONNREFUSED)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'postgres', database: 'postgres' });
    const error = await errorOf(() => client.connect());
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('recognises a connection dropped mid-query, and the client that is not queryable afterwards (no SQLSTATE)', async () => {
    const client = new pg.Client({ connectionString: throughProxy() });
    client.on('error', () => {});
    await client.connect();
    const running = errorOf(() => client.query('select pg_sleep(10)'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.cut();
    const dropped = await running;
    expect((dropped as Error).message).toBe('Connection terminated unexpectedly');
    expect((dropped as { code?: string }).code).toBeUndefined();
    expect(isDatabaseUnavailable(dropped)).toBe(true);

    const after = await errorOf(() => client.query('select 1'));
    expect((after as Error).message).toBe('Client has encountered a connection error and is not queryable');
    expect(isDatabaseUnavailable(after)).toBe(true);
  });

  it('recognises a terminated backend (57P01), as a restart or a failover ends sessions', async () => {
    const victim = new pg.Client({ connectionString: database.url });
    const errors: unknown[] = [];
    victim.on('error', (error) => errors.push(error));
    await victim.connect();
    const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    await admin.end();
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((errors[0] as { code?: string }).code).toBe('57P01');
    expect(isDatabaseUnavailable(errors[0])).toBe(true);
  });

  it('recognises a pool with no free client in time, and a server that never answers the handshake', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1, connectionTimeoutMillis: 100 });
    const held = await pool.connect();
    const busy = await errorOf(() => pool.connect());
    expect((busy as Error).message).toBe('timeout exceeded when trying to connect');
    expect(isDatabaseUnavailable(busy)).toBe(true);
    held.release();
    await pool.end();
    const ended = await errorOf(() => pool.query('select 1'));
    expect((ended as Error).message).toBe('Cannot use a pool after calling end on the pool');
    expect(isDatabaseUnavailable(ended)).toBe(true);

    const silent = createServer((socket) => sockets.push(socket));
    const sockets: Socket[] = [];
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    try {
      const slowPool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 100 });
      const handshake = await errorOf(() => slowPool.connect());
      expect((handshake as Error).message).toBe('Connection terminated due to connection timeout');
      expect(isDatabaseUnavailable(handshake)).toBe(true);
      await slowPool.end();
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 100 });
      const timedOut = await errorOf(() => client.connect());
      expect(isDatabaseUnavailable(timedOut)).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('does not take a statement at fault, or any other error, for an outage', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      for (const text of ['select from', 'select 1/0', "select 'x'::int", 'select * from no_such_table']) {
        expect(isDatabaseUnavailable(await errorOf(() => client.query(text))), text).toBe(false);
      }
    } finally {
      await client.end();
    }
    expect(isDatabaseUnavailable(new AppError('tenant.not_found'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('Connection terminated unexpectedly'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe(true);
  });
});
