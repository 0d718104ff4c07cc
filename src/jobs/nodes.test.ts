import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createDb, createPool, type Db } from '../db/database.ts';
import { releaseDeadNodes } from './nodes.ts';

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

it('releases every silent node but the judging one: a node whose own beat was late is alive', async () => {
  await sql`insert into landlord_nodes (id, role, heartbeat_at) values
    ('self', 'all', now() - interval '1 minute'), ('gone', 'all', now() - interval '1 minute'), ('beating', 'all', now())`.execute(db);
  expect(await releaseDeadNodes(db, 3000, undefined, 'self')).toEqual(['gone']);
  const left = await db.selectFrom('landlord_nodes').select('id').orderBy('id').execute();
  expect(left.map((node) => node.id)).toEqual(['beating', 'self']);
});
