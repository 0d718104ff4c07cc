import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { TEST_ADMIN_KEY } from './helpers/landlord.ts';
import { type LandlordProcess, spawnLandlord } from './helpers/process.ts';

// "Never a silent zombie": a component that cannot be restarted while the database
// answers (here the node registry's table is gone, as after a bad deploy) ends the
// process with code 70, so that whatever runs it starts a new one.

let database: TestDatabase;
let landlord: LandlordProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  if (landlord && landlord.child.exitCode === null) landlord.child.kill('SIGKILL');
  await database?.drop();
});

it('exits with code 70 when a component keeps failing to restart while the database answers', async () => {
  landlord = await spawnLandlord(
    {
      DATABASE_URL: database.url,
      LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
      LANDLORD_NODE_TIMEOUT_SECONDS: '3',
      LANDLORD_DATABASE_POOL_SIZE: '10',
      LANDLORD_WORKER_CONCURRENCY: '2',
      LANDLORD_COMPONENT_GIVE_UP_SECONDS: '3',
      LOG_LEVEL: 'info',
    },
    { readyWithinMs: 120_000 },
  );
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query('alter table landlord_nodes rename to landlord_nodes_moved');
  await admin.end();

  const brokeAt = Date.now();
  const code = await landlord.exited;
  expect(code, landlord.output().slice(-3000)).toBe(70);
  // The heartbeat fails within a beat (1 s), then 3 s of failed restarts while the database answers.
  expect(Date.now() - brokeAt).toBeGreaterThan(3000);
  expect(Date.now() - brokeAt).toBeLessThan(60_000);
  // (JSON lines: the quotes in the messages are escaped.)
  expect(landlord.output()).toMatch(/node-heartbeat stopped: relation \\"landlord_nodes\\" does not exist; restarting it/);
  expect(landlord.output()).toMatch(/The background component \\"node-heartbeat\\" has been down for \d+ s and cannot be restarted/);
}, 180_000);
