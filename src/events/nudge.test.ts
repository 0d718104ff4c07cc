import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createDb, createPool, type Db } from '../db/database.ts';
import { createSequencerNudge, SEQUENCE_CHANNEL } from './nudge.ts';

let database: TestDatabase;
let pool: pg.Pool;
let db: Db;
let listening: pg.Client;
const heard: number[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 4);
  db = createDb(pool);
  listening = new pg.Client({ connectionString: database.url });
  await listening.connect();
  listening.on('notification', (message) => {
    if (message.channel === SEQUENCE_CHANNEL) heard.push(Date.now());
  });
  await listening.query(`listen ${SEQUENCE_CHANNEL}`);
});
afterAll(async () => {
  await listening?.end();
  await db?.destroy();
  await database?.drop();
});

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createSequencerNudge', () => {
  it('sends one NOTIFY for a burst of nudges, and another for a nudge after it', async () => {
    const errors: unknown[] = [];
    const nudge = createSequencerNudge(db, (error) => errors.push(error));
    heard.length = 0;
    for (let index = 0; index < 500; index++) nudge();
    await settle(300);
    expect(heard).toHaveLength(1);
    nudge();
    await settle(300);
    expect(heard).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('reports a NOTIFY that could not be sent (the sequencer’s idle pass finds the events)', async () => {
    const errors: unknown[] = [];
    const broken = createDb(createPool('postgres://postgres@127.0.0.1:1/none', 1));
    createSequencerNudge(broken, (error) => errors.push(error))();
    for (let waited = 0; errors.length === 0 && waited < 5000; waited += 50) await settle(50);
    expect(errors).toHaveLength(1);
    await broken.destroy();
  });
});
