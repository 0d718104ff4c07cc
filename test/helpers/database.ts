import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Db } from '../../src/db/database.ts';
import type { Database } from '../../src/db/schema.ts';
import { withDatabase } from '../global-setup.ts';

/** A fresh database for one test file, cloned from the migrated template. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Clones the migrated template into a new database (a few tens of milliseconds). */
export async function createTestDatabase(): Promise<TestDatabase> {
  return newDatabase('landlord_t', `template ${inject('templateDatabase')}`);
}

/** A brand-new, empty database (no migrations): what a first deployment starts from, or a test migrates step by step. */
export async function createEmptyDatabase(prefix = 'landlord_e'): Promise<TestDatabase> {
  return newDatabase(prefix, '');
}

async function newDatabase(prefix: string, options: string): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name} ${options}`);
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`),
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // Cloning a template fails while another session is connected to it; clones started together retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(text);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * A Kysely over `url` (a pool of `size`) that records the text of every statement it sends in `sent`, for tests
 * that count statements (empty it with `sent.length = 0`).
 */
export function statementRecordingDb(url: string, size = 4): { db: Db; sent: string[] } {
  const sent: string[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(url, size) }),
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  return { db, sent };
}
