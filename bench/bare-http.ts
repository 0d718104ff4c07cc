/**
 * What the bare HTTP ceilings share: a pg pool and a Fastify app with nothing added,
 * and a start that listens on loopback, says it is ready and stops cleanly on a signal.
 * Each ceiling configures itself from DATABASE_URL, PORT and POOL_SIZE.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';

/** A pool of POOL_SIZE connections to DATABASE_URL and a bare Fastify app. */
export function bareServer(name: string): { app: FastifyInstance; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.POOL_SIZE ?? 20),
    application_name: `bench-${name}`,
  });
  pool.on('error', () => {});
  return { app: Fastify({ logger: false }), pool };
}

/** Listens on 127.0.0.1:PORT, prints "`name` ready", and closes app and pool on SIGTERM or SIGINT. */
export async function serveBare(name: string, app: FastifyInstance, pool: pg.Pool): Promise<void> {
  const stop = () => {
    app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  process.stdout.write(`${name} ready\n`);
}
