import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createDb, createPool, type Db, hotStatement } from './database.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(createPool(database.url, 2));
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('hotStatement', () => {
  it('builds once and binds each call’s values by name, wherever and however often they appear', async () => {
    let builds = 0;
    const statement = hotStatement((_on, p: { a: number; b: string }) => {
      builds++;
      return sql<{ a: number; b: string; again: number; constant: string }>`
        select ${p.a}::int as a, ${p.b}::text as b, ${p.a}::int + 1 as again, ${'fixed'}::text as constant`;
    });
    expect(await statement(db, { a: 1, b: 'x' })).toEqual([{ a: 1, b: 'x', again: 2, constant: 'fixed' }]);
    expect(await statement(db, { a: 41, b: 'y' })).toEqual([{ a: 41, b: 'y', again: 42, constant: 'fixed' }]);
    expect(builds).toBe(1);
  });

  it('takes Kysely query builders, and runs in a transaction too', async () => {
    // A table of the test's own, outside Landlord's schema.
    const statement = hotStatement((on, p: { name: string }) =>
      (on as unknown as Kysely<{ hot_things: { name: string } }>).selectFrom('hot_things').select('name').where('name', '=', p.name),
    );
    await sql`create table hot_things (name text); insert into hot_things values ('hot')`.execute(db);
    expect(await statement(db, { name: 'hot' })).toEqual([{ name: 'hot' }]);
    expect(await db.transaction().execute((tx) => statement(tx, { name: 'cold' }))).toEqual([]);
  });
});
