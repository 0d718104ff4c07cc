import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createPool } from './database.ts';
import { type Migration, migrate, migrationsApplied, readMigrations } from './migrate.ts';

const NODES = 4;

// A brand-new, empty database (not a clone of the migrated template): the state a
// first deployment of several nodes starts from.
let database: TestDatabase;
let migrations: Migration[];
const pools: pg.Pool[] = [];

beforeAll(async () => {
  database = await createEmptyDatabase('landlord_mig');
  migrations = await readMigrations();
  for (let node = 0; node < NODES; node++) pools.push(createPool(database.url, 2));
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await database?.drop();
});

describe('migrate() on several nodes at once', () => {
  it('applies each migration exactly once when 4 nodes migrate a new database concurrently', async () => {
    expect(migrations.length).toBeGreaterThan(0);
    const { rows: before } = await pools[0]!.query(`select to_regclass('landlord_migrations') as t`);
    expect(before[0].t).toBeNull();

    const results = await Promise.all(pools.map((pool) => migrate(pool)));

    // Between them the nodes applied every file once; the others found it done.
    const appliedByAll = results.flatMap((result) => result.applied).sort();
    expect(appliedByAll).toEqual(migrations.map((migration) => migration.name).sort());
    const { rows } = await pools[0]!.query<{ id: number; name: string; checksum: string; times: number }>(
      'select id, name, checksum, count(*) over (partition by id)::int as times from landlord_migrations order by id',
    );
    expect(rows).toEqual(migrations.map(({ id, name, checksum }) => ({ id, name, checksum, times: 1 })));
    expect(await migrationsApplied(pools[1]!, migrations.length)).toBe(true);
    expect(await migrationsApplied(pools[1]!, migrations.length + 1)).toBe(false);
  });

  it('does nothing when run again: every node finds the database up to date', async () => {
    const results = await Promise.all(pools.map((pool) => migrate(pool, migrations)));
    expect(results).toEqual(pools.map(() => ({ applied: [] })));
    const { rows } = await pools[0]!.query<{ count: number }>('select count(*)::int as count from landlord_migrations');
    expect(rows[0]!.count).toBe(migrations.length);
  });

  it('refuses a migration that was edited after it was applied, naming the file, and applies nothing after it', async () => {
    const [first, ...rest] = migrations;
    const edited: Migration = { ...first!, sql: `${first!.sql}\n-- edited`, checksum: 'f'.repeat(64) };
    const next: Migration = {
      id: 9999,
      name: '9999_after_the_edit.sql',
      sql: 'create table should_not_exist (id int)',
      checksum: 'e'.repeat(64),
    };

    const refusals = await Promise.allSettled(pools.map((pool) => migrate(pool, [edited, ...rest, next])));
    for (const refusal of refusals) {
      expect(refusal.status).toBe('rejected');
      const message = (refusal as PromiseRejectedResult).reason.message as string;
      expect(message).toContain(first!.name);
      expect(message).toMatch(/changed after it was applied.*forward-only/);
    }
    const { rows } = await pools[0]!.query(`select to_regclass('should_not_exist') as t, max(id) as last from landlord_migrations`);
    expect(rows[0]).toEqual({ t: null, last: migrations.at(-1)!.id });
    // The refusals released the lock: the unedited files still migrate (nothing to do).
    expect(await migrate(pools[2]!, migrations)).toEqual({ applied: [] });
    expect(await migrationsApplied(pools[3]!, migrations.length)).toBe(true);
  });
});
