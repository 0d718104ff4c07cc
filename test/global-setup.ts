import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { lockDataDir } from '../src/db/data-dir-lock.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate, readMigrations } from '../src/db/migrate.ts';
import { migrateJobQueue } from '../src/jobs/worker.ts';
import { createLogger } from '../src/platform/logger.ts';
import { pgAnswers } from './helpers/pg-answers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test PostgreSQL server (its `postgres` database). */
    adminUrl: string;
    /** The migrated template every test database is cloned from. */
    templateDatabase: string;
  }
}

const MACHINE_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Finds the PostgreSQL server the suite runs on — `TEST_DATABASE_URL`, else the
 * machine's server at 127.0.0.1:5432, else an embedded server in a temporary
 * directory — and prepares a migrated template database to clone per test file.
 */
export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL ?? MACHINE_POSTGRES;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!(await pgAnswers(adminUrl))) {
    const dir = await mkdtemp(join(tmpdir(), 'landlord-test-pg-'));
    const lock = await lockDataDir(dir);
    const embedded = await startEmbeddedPostgres(dir, () => {});
    adminUrl = embedded.connectionString.replace(/\/landlord$/, '/postgres');
    stopEmbedded = async () => {
      await embedded.stop();
      await lock.release();
      await rm(dir, { recursive: true, force: true });
    };
  }

  const migrations = await readMigrations();
  const fingerprint = createHash('sha256')
    .update(migrations.map((migration) => migration.checksum).join())
    .digest('hex')
    .slice(0, 12);
  const template = `landlord_tpl_${fingerprint}`;
  await createTemplate(adminUrl, template);

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', template);
  return async () => {
    await stopEmbedded?.();
  };
}

async function createTemplate(adminUrl: string, template: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (rowCount) return;
    const building = `${template}_build_${process.pid}`;
    await admin.query(`drop database if exists ${building}`);
    await admin.query(`create database ${building}`);
    const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, building), max: 2 });
    pool.on('error', () => {});
    try {
      await migrate(pool);
      await migrateJobQueue(pool, createLogger('silent'));
    } finally {
      await pool.end();
    }
    // Built under another name and renamed, so a half-built template is never used.
    await admin.query(`alter database ${building} rename to ${template}`).catch(async (error) => {
      await admin.query(`drop database if exists ${building}`);
      if ((error as { code?: string }).code !== '42P04') throw error;
    });
  } finally {
    await admin.end();
  }
}

/** The URL of another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
