import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, statementRecordingDb, type TestDatabase } from '../../test/helpers/database.ts';
import type { Db } from './database.ts';
import { turnBatch, turnBatchedRead } from './turn-batch.ts';

let database: TestDatabase;
let db: Db;
let sent: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  ({ db, sent } = statementRecordingDb(database.url));
  await sql`create table batch_things (k int primary key, v text)`.execute(db);
  await sql`insert into batch_things select i, 'v' || i from generate_series(1, 300) i`.execute(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const read = turnBatchedRead(
  async (on, keys: readonly number[]) => {
    const { rows } = await sql<{ k: number; v: string }>`select k, v from batch_things where k = any(${[...keys]}::int[])`.execute(on);
    const byKey = new Map(rows.map((row) => [row.k, row.v]));
    return keys.map((key) => byKey.get(key));
  },
  async (tx, key: number) => (await sql<{ v: string }>`select v from batch_things where k = ${key}`.execute(tx)).rows[0]?.v,
);

describe('turnBatch', () => {
  it('answers the loads of one turn, from separate callers, with one statement, each its own value', async () => {
    sent.length = 0;
    const keys = [5, 1, 5, 999, 42];
    expect(await Promise.all(keys.map((key) => read(db, key)))).toEqual(['v5', 'v1', 'v5', undefined, 'v42']);
    expect(sent).toHaveLength(1);
  });

  it('splits a turn of more than 256 loads, and starts a new batch for loads made after one has left', async () => {
    sent.length = 0;
    const keys = Array.from({ length: 300 }, (_, index) => index + 1);
    const values = await Promise.all(keys.map((key) => read(db, key)));
    expect(values).toEqual(keys.map((key) => `v${key}`));
    expect(sent).toHaveLength(2);
    sent.length = 0;
    await read(db, 1);
    await read(db, 2);
    expect(sent).toHaveLength(2);
  });

  it('reads alone inside a transaction, where the transaction’s own writes are visible', async () => {
    await db
      .transaction()
      .execute(async (tx) => {
        await sql`update batch_things set v = 'changed' where k = 7`.execute(tx);
        expect(await read(tx, 7)).toBe('changed');
        expect(await read(db, 7)).toBe('v7');
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await read(db, 7)).toBe('v7');
  });

  it('fails only the loads a batch answered with an error', async () => {
    const load = turnBatch(async (keys: readonly number[]) => keys.map((key) => (key < 0 ? new Error(`bad ${key}`) : key * 2)));
    const outcomes = await Promise.allSettled([load(1), load(-1), load(3)]);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : String(outcome.reason)))).toEqual([
      2,
      'Error: bad -1',
      6,
    ]);
  });
});
