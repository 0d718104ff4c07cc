import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const REPO = resolve(import.meta.dirname, '../..');
const ADMIN_KEY = 'k'.repeat(32);

/** The error `loadConfig(env)` throws, or a failure when it throws none. */
function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/landlord');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('gives every variable its documented default on an empty environment', () => {
    expect(loadConfig({}, '/srv/landlord')).toEqual({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '/srv/landlord/.landlord',
      adminKey: undefined,
      role: 'all',
      logLevel: 'info',
      rateLimitPerMinute: 6000,
      encryptionKey: undefined,
      egressAllow: [],
      workerConcurrency: 16,
      workerPollMs: 1000,
      retryBaseMs: 30_000,
      nodeTimeoutSeconds: 30,
      healthConcurrency: 128,
      healthPerProduct: 128,
      healthPerHost: 64,
      healthTickMs: 100,
      healthProbeRetentionHours: 48,
      healthHourlyRetentionDays: 35,
      webhookTimeoutMs: 15_000,
      databasePoolSize: 40,
      publicUrl: undefined,
      sessionIdleMinutes: 60,
      sessionMaxHours: 12,
      componentGiveUpSeconds: 120,
      console: true,
      consoleIdleMinutes: 30,
      renewalBatchSize: 250,
    });
  });

  it('binds to loopback (127.0.0.1) unless HOST says otherwise, and treats blank values as unset', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '   ', PORT: '', LANDLORD_ROLE: ' ' }, '/x')).toMatchObject({ host: '127.0.0.1', port: 8080, role: 'all' });
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('reads every variable when set', () => {
    const encryptionKey = randomBytes(32);
    const config = loadConfig(
      {
        PORT: ' 9090 ',
        HOST: '::1',
        DATABASE_URL: 'postgresql://app:secret@db.internal:5433/landlord',
        LANDLORD_DATA_DIR: 'var/data',
        LANDLORD_ADMIN_KEY: ADMIN_KEY,
        LANDLORD_ROLE: 'worker',
        LOG_LEVEL: 'debug',
        LANDLORD_RATE_LIMIT: '0',
        LANDLORD_ENCRYPTION_KEY: encryptionKey.toString('base64'),
        LANDLORD_EGRESS_ALLOW: ' 10.0.0.0/8, backend.internal ,,',
        LANDLORD_WORKER_CONCURRENCY: '4',
        LANDLORD_WORKER_POLL_MS: '250',
        LANDLORD_RETRY_BASE_MS: '5',
        LANDLORD_NODE_TIMEOUT_SECONDS: '90',
        LANDLORD_HEALTH_CONCURRENCY: '0',
        LANDLORD_HEALTH_PER_PRODUCT: '7',
        LANDLORD_HEALTH_PER_HOST: '3',
        LANDLORD_HEALTH_TICK_MS: '50',
        LANDLORD_HEALTH_PROBE_RETENTION_HOURS: '6',
        LANDLORD_HEALTH_HOURLY_RETENTION_DAYS: '90',
        LANDLORD_WEBHOOK_TIMEOUT_MS: '2500',
        LANDLORD_DATABASE_POOL_SIZE: '12',
        LANDLORD_PUBLIC_URL: 'https://landlord.example.com/',
        LANDLORD_SESSION_IDLE_MINUTES: '30',
        LANDLORD_SESSION_MAX_HOURS: '8',
        LANDLORD_COMPONENT_GIVE_UP_SECONDS: '45',
        LANDLORD_CONSOLE: 'off',
        LANDLORD_CONSOLE_IDLE_MINUTES: '15',
        LANDLORD_RENEWAL_BATCH_SIZE: '50',
      },
      '/srv/landlord',
    );
    expect(config).toEqual({
      port: 9090,
      host: '::1',
      databaseUrl: 'postgresql://app:secret@db.internal:5433/landlord',
      dataDir: '/srv/landlord/var/data',
      adminKey: ADMIN_KEY,
      role: 'worker',
      logLevel: 'debug',
      rateLimitPerMinute: 0,
      encryptionKey,
      egressAllow: ['10.0.0.0/8', 'backend.internal'],
      workerConcurrency: 4,
      workerPollMs: 250,
      retryBaseMs: 5,
      nodeTimeoutSeconds: 90,
      healthConcurrency: 0,
      healthPerProduct: 7,
      healthPerHost: 3,
      healthTickMs: 50,
      healthProbeRetentionHours: 6,
      healthHourlyRetentionDays: 90,
      webhookTimeoutMs: 2500,
      databasePoolSize: 12,
      publicUrl: 'https://landlord.example.com',
      sessionIdleMinutes: 30,
      sessionMaxHours: 8,
      componentGiveUpSeconds: 45,
      console: false,
      consoleIdleMinutes: 15,
      renewalBatchSize: 50,
    });
    expect(loadConfig({ LANDLORD_DATA_DIR: '/abs/dir' }, '/srv/landlord').dataDir).toBe('/abs/dir');
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });
});

describe('loadConfig refuses bad values with a ConfigError naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', '1e3'],
    ['LANDLORD_ROLE', 'boss'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://root@127.0.0.1:3306/landlord'],
    ['DATABASE_URL', 'not a url'],
    ['LANDLORD_ADMIN_KEY', 'k'.repeat(31)],
    ['LANDLORD_ENCRYPTION_KEY', randomBytes(16).toString('base64')],
    ['LANDLORD_ENCRYPTION_KEY', 'not base64 at all!'],
    ['LANDLORD_RATE_LIMIT', 'lots'],
    ['LANDLORD_WORKER_CONCURRENCY', '0'],
    ['LANDLORD_WORKER_POLL_MS', '5'],
    ['LANDLORD_RETRY_BASE_MS', '0'],
    ['LANDLORD_NODE_TIMEOUT_SECONDS', '3601'],
    ['LANDLORD_HEALTH_CONCURRENCY', '-1'],
    ['LANDLORD_HEALTH_PER_HOST', '0'],
    ['LANDLORD_HEALTH_TICK_MS', '5'],
    ['LANDLORD_HEALTH_HOURLY_RETENTION_DAYS', '0'],
    ['LANDLORD_WEBHOOK_TIMEOUT_MS', '99'],
    ['LANDLORD_DATABASE_POOL_SIZE', '1'],
    ['LANDLORD_PUBLIC_URL', 'landlord.example.com'],
    ['LANDLORD_PUBLIC_URL', 'ftp://landlord.example.com'],
    ['LANDLORD_PUBLIC_URL', 'https://landlord.example.com/?next=1'],
  ])('%s=%s', (name, value) => {
    const error = configErrorOf({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(name);
  });

  it('does not echo a too-short admin key back into the logs', () => {
    expect(configErrorOf({ LANDLORD_ADMIN_KEY: 'hunter2-hunter2' }).message).not.toContain('hunter2');
  });
});

describe('the loaded configuration is frozen', () => {
  it('refuses changes to its fields and to its lists', () => {
    const config = loadConfig({ LANDLORD_EGRESS_ALLOW: 'backend.internal' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.egressAllow)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => (config.egressAllow as string[]).push('169.254.169.254')).toThrow(TypeError);
    expect(config.port).toBe(8080);
    expect(config.egressAllow).toEqual(['backend.internal']);
  });
});

describe('landlord start with a bad configuration', () => {
  let scratch: string | undefined;
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('exits 1 with a message naming PORT, before touching the data directory', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'landlord-config-'));
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of Object.keys(env)) if (name === 'DATABASE_URL' || name.startsWith('LANDLORD_')) delete env[name];
    Object.assign(env, { PORT: 'abc', LANDLORD_DATA_DIR: join(scratch, 'data') });

    const run = promisify(execFile)(join(REPO, 'node_modules/.bin/node'), ['src/cli.ts', 'start'], { cwd: REPO, env, timeout: 20_000 });
    const failure = await run.then(
      () => undefined,
      (error: { code?: number; signal?: string; stderr?: string }) => error,
    );
    expect(failure, 'landlord start accepted PORT=abc').toBeDefined();
    expect(failure?.signal ?? null).toBeNull();
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^landlord: PORT must be a whole number from 0 to 65535, got "abc"$/m);
    expect(await readdir(scratch)).toEqual([]);
  });
});
