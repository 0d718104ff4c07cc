import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
// Any fixed number works; every node uses the same one so migrations apply once.
const MIGRATION_LOCK = 7_305_001;

/** One numbered SQL file from `src/db/migrations`. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the migration files in order. Names look like `0001_foundation.sql`. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(join(dir, file), 'utf8');
      return { id: Number(file.slice(0, 4)), name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies every migration not applied yet, each in its own transaction, under an
 * advisory lock so that several nodes starting at once apply each one exactly once.
 * Refuses to start when an applied file was edited afterwards.
 */
export async function migrate(pool: pg.Pool, migrations?: Migration[]): Promise<{ applied: string[] }> {
  const files = migrations ?? (await readMigrations());
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`create table if not exists landlord_migrations (
      id integer primary key, name text not null, checksum text not null,
      applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ id: number; name: string; checksum: string }>(
      'select id, name, checksum from landlord_migrations order by id',
    );
    const done = new Map(rows.map((row) => [row.id, row]));
    const applied: string[] = [];
    for (const migration of files) {
      const existing = done.get(migration.id);
      if (existing) {
        if (existing.checksum !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied; migrations are forward-only, add a new file instead`,
          );
        }
        continue;
      }
      await client.query('begin');
      try {
        await client.query(migration.sql);
        await client.query('insert into landlord_migrations (id, name, checksum) values ($1, $2, $3)', [
          migration.id,
          migration.name,
          migration.checksum,
        ]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(migration.name);
    }
    return { applied };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** True when every migration file has been applied to the database (for /readyz). */
export async function migrationsApplied(pool: pg.Pool, expected: number): Promise<boolean> {
  const { rows } = await pool.query<{ count: number }>('select count(*)::int as count from landlord_migrations');
  return (rows[0]?.count ?? 0) >= expected;
}
