import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { type Landlord, startLandlord } from '../../src/main.ts';
import type { Clock } from '../../src/platform/clock.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { type ApiClient, apiClient } from './http.ts';

/** The super-admin key every test node accepts. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';

/** A Landlord node on its own test database, with an admin API client. */
export interface TestLandlord {
  node: Landlord;
  url: string;
  database: TestDatabase;
  /** An API client authenticated with the super-admin key. */
  admin: ApiClient;
  /** An API client with any (or no) bearer credential. */
  as(token: string | undefined): ApiClient;
  close(): Promise<void>;
}

/**
 * Starts Landlord as `npm start` would, on 127.0.0.1 and a free port, against a new
 * database cloned from the migrated template. `env` overrides configuration.
 */
export async function startTestLandlord(
  options: { env?: Record<string, string>; clock?: Clock; database?: TestDatabase; logger?: Logger } = {},
): Promise<TestLandlord> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    DATABASE_URL: database.url,
    PORT: '0',
    LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'silent',
    LANDLORD_RATE_LIMIT: '0',
    // Retries, polling and dead-node detection on a test's time scale.
    LANDLORD_RETRY_BASE_MS: '50',
    LANDLORD_WORKER_POLL_MS: '100',
    LANDLORD_NODE_TIMEOUT_SECONDS: '3',
    // Several nodes run at once in a test run: keep each one's share of PostgreSQL's connections small.
    LANDLORD_DATABASE_POOL_SIZE: '10',
    LANDLORD_WORKER_CONCURRENCY: '4',
    ...options.env,
  });
  const node = await startLandlord(config, { clock: options.clock, logger: options.logger ?? createLogger(config.logLevel) });
  const as = (token: string | undefined) => apiClient(node.url, token);
  return {
    node,
    url: node.url,
    database,
    admin: as(TEST_ADMIN_KEY),
    as,
    close: async () => {
      await node.close();
      if (!options.database) await database.drop();
    },
  };
}
