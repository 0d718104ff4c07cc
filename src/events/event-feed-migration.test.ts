import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createPool } from '../db/database.ts';
import { migrate, readMigrations } from '../db/migrate.ts';

// A database as a node before 0024_event_feed.sql left it: events numbered in their own rows, some not yet.
let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createEmptyDatabase('landlord_feedmig');
  pool = createPool(database.url, 2);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('0024_event_feed.sql on a database with events', () => {
  it('moves every numbered event into the feed at its position and queues the rest, each kept once', async () => {
    const all = await readMigrations();
    await migrate(
      pool,
      all.filter((migration) => migration.name < '0024'),
    );
    const product = '0193a000-0000-7000-8000-000000000001';
    const endpoint = '0193a000-0000-7000-8000-0000000000e1';
    await pool.query(
      `insert into events (id, type, product_id, tenant_id, data, position) values
        ('0193a000-0000-7000-8000-000000000011', 'product.created', $1, null, '{}', 1),
        ('0193a000-0000-7000-8000-000000000012', 'product.updated', $1, null, '{}', 2),
        ('0193a000-0000-7000-8000-000000000013', 'webhook_endpoint.test', $1, null, jsonb_build_object('endpointId', $2::text), null),
        ('0193a000-0000-7000-8000-000000000014', 'product.updated', $1, null, '{}', null)`,
      [product, endpoint],
    );
    await migrate(pool, all);
    const feed = await pool.query('select position::int, event_id, product_id, type from event_feed order by position');
    expect(feed.rows).toEqual([
      { position: 1, event_id: '0193a000-0000-7000-8000-000000000011', product_id: product, type: 'product.created' },
      { position: 2, event_id: '0193a000-0000-7000-8000-000000000012', product_id: product, type: 'product.updated' },
    ]);
    const pending = await pool.query('select id, type, target from events_pending order by id');
    expect(pending.rows).toEqual([
      { id: '0193a000-0000-7000-8000-000000000013', type: 'webhook_endpoint.test', target: endpoint },
      { id: '0193a000-0000-7000-8000-000000000014', type: 'product.updated', target: null },
    ]);
    // From now on every insert is queued in its own statement, by the trigger.
    await pool.query(
      `insert into events (id, type, product_id, data) values ('0193a000-0000-7000-8000-000000000015', 'product.deleted', $1, '{}')`,
      [product],
    );
    const queued = await pool.query(`select count(*)::int as n from events_pending where id = '0193a000-0000-7000-8000-000000000015'`);
    expect(queued.rows[0].n).toBe(1);
  });
});
