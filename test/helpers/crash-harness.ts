import { afterAll, beforeAll } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from './backend-simulator.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { TEST_ADMIN_KEY } from './landlord.ts';
import type { LandlordProcess } from './process.ts';

/** What a SIGKILL test shares: its own database, a backend simulator, and the Landlord processes it spawned. */
export interface CrashHarness {
  readonly database: TestDatabase;
  readonly backend: BackendSimulator;
  /** Push every spawned process here: whichever still runs at the end is killed. */
  readonly started: LandlordProcess[];
  /** The environment of a spawned Landlord: this database, fast retries and a short node timeout. */
  env(): Record<string, string>;
}

/**
 * Registers the suite's setup and teardown for a crash test and answers its harness (read `database` and
 * `backend` inside tests, after setup ran). Shared so every SIGKILL test runs processes under the same settings.
 */
export function useCrashHarness(): CrashHarness {
  let database: TestDatabase | undefined;
  let backend: BackendSimulator | undefined;
  const started: LandlordProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    backend = await startBackendSimulator();
  });
  afterAll(async () => {
    for (const process of started) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    await backend?.close();
    await database?.drop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the crash harness's ${what} is read before its setup ran`);
    return value;
  };
  return {
    get database() {
      return ready(database, 'database');
    },
    get backend() {
      return ready(backend, 'backend');
    },
    started,
    env: () => ({
      DATABASE_URL: ready(database, 'database').url,
      LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
      LANDLORD_RETRY_BASE_MS: '200',
      LANDLORD_WORKER_POLL_MS: '100',
      LANDLORD_NODE_TIMEOUT_SECONDS: '2',
      LANDLORD_DATABASE_POOL_SIZE: '10',
      LANDLORD_WORKER_CONCURRENCY: '4',
    }),
  };
}
