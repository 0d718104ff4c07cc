import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Component } from '../platform/supervisor.ts';
import { lockDataDir, readLock } from './data-dir-lock.ts';
import { createDb, createPool, type Db } from './database.ts';
import { isAlive, startEmbeddedPostgres } from './embedded.ts';

/** An open database: the pool, its Kysely handle, and how to close both. */
export interface DatabaseHandle {
  pool: pg.Pool;
  db: Db;
  connectionString: string;
  /** Where the embedded server keeps its data, when the embedded server is used. */
  embeddedDir: string | undefined;
  /** The embedded server as a component for the supervisor (it restarts the server if its process dies). */
  server: Component | undefined;
  close(): Promise<void>;
}

/**
 * Opens the database Landlord runs on: the server at `DATABASE_URL`, or else the
 * embedded server in the data directory, which this process then owns (locked).
 */
export async function openDatabase(config: Config, log: (line: string) => void, poolSize = 20): Promise<DatabaseHandle> {
  if (config.databaseUrl) return wrap(config.databaseUrl, poolSize, undefined, undefined, async () => {});
  const lock = await lockDataDir(config.dataDir);
  try {
    const embedded = await startEmbeddedPostgres(config.dataDir, log);
    await lock.update({ port: embedded.port });
    return wrap(embedded.connectionString, poolSize, config.dataDir, embedded.component, async () => {
      await embedded.stop();
      await lock.release();
    });
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Opens the database as a node does: its pool size, the embedded server's lines logged at debug level. */
export function openNodeDatabase(config: Config, log: Logger): Promise<DatabaseHandle> {
  return openDatabase(config, (line) => log.debug({ scope: 'postgres' }, line), config.databasePoolSize);
}

/**
 * For command-line tools: reuse the embedded server of a Landlord that is running on
 * the same data directory, or open the database as {@link openDatabase} does.
 */
export async function openDatabaseForCli(config: Config, log: (line: string) => void): Promise<DatabaseHandle> {
  if (!config.databaseUrl) {
    const holder = await readLock(config.dataDir);
    if (holder?.port && holder.pid !== process.pid && isAlive(holder.pid)) {
      const password = (await readFile(join(config.dataDir, 'pg-password'), 'utf8')).trim();
      const url = `postgres://landlord:${encodeURIComponent(password)}@127.0.0.1:${holder.port}/landlord`;
      return wrap(url, 2, config.dataDir, undefined, async () => {});
    }
  }
  return openDatabase(config, log, 2);
}

function wrap(
  connectionString: string,
  poolSize: number,
  embeddedDir: string | undefined,
  server: Component | undefined,
  after: () => Promise<void>,
): DatabaseHandle {
  const pool = createPool(connectionString, poolSize);
  const db = createDb(pool);
  return {
    pool,
    db,
    connectionString,
    embeddedDir,
    server,
    close: async () => {
      await db.destroy();
      await after();
    },
  };
}
