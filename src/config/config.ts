import { resolve } from 'node:path';

/** Which parts of Landlord a node runs: the HTTP API, the background worker, or both. */
export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Subscriptions the renewals sweep claims per pass, in two transactions of half each. 250 rather than 500: half the
 * batch data is live when a scavenge comes, so the API's slowest reads during a burst are about a third faster (read
 * p99 37–46 ms against 51–62 ms in the renewals bench, 2026-12-08), and renewals/s moved less than between runs.
 */
export const DEFAULT_RENEWAL_BATCH_SIZE = 250;

/** Landlord's configuration, read once from the environment at start-up and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `undefined` means: start the embedded PostgreSQL server in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly adminKey: string | undefined;
  readonly role: Role;
  readonly logLevel: LogLevel;
  /** Requests per minute per credential; 0 turns rate limiting off. */
  readonly rateLimitPerMinute: number;
  /** Base64 of 32 bytes; when absent the key is generated once and kept in the database. */
  readonly encryptionKey: Buffer | undefined;
  /** Hosts and CIDR ranges that outbound calls may reach even though they are private. */
  readonly egressAllow: readonly string[];
  /** How many background jobs one node runs at once. */
  readonly workerConcurrency: number;
  /** How often the worker looks for jobs that became due (new jobs arrive at once by NOTIFY). */
  readonly workerPollMs: number;
  /** Pause before the second attempt of a failed call to a backend; it doubles after each attempt. */
  readonly retryBaseMs: number;
  /** A node whose heartbeat is older than this is dead: its jobs are handed to the others. */
  readonly nodeTimeoutSeconds: number;
  /** Health probes one node runs at once; 0: this node does not probe. */
  readonly healthConcurrency: number;
  /** Health probes one node runs at once against one product, and against one backend host. */
  readonly healthPerProduct: number;
  readonly healthPerHost: number;
  /** How often the prober looks for tenants due a probe (it also looks whenever probes finish). */
  readonly healthTickMs: number;
  /** How long failed probes (and probes that changed a tenant's health) are kept one by one. */
  readonly healthProbeRetentionHours: number;
  /** How long hourly probe totals are kept (uptime over 30 days needs 30). */
  readonly healthHourlyRetentionDays: number;
  /** Timeout of one webhook delivery attempt. */
  readonly webhookTimeoutMs: number;
  /** Connections this node keeps to PostgreSQL at most (its worker and HTTP share them). */
  readonly databasePoolSize: number;
  /** Where browsers reach Landlord (`LANDLORD_PUBLIC_URL`); unset, links use the address a request came to. */
  readonly publicUrl: string | undefined;
  /** A tenant user's Landlord session ends after this many idle minutes. */
  readonly sessionIdleMinutes: number;
  /** A tenant user's Landlord session ends this many hours after sign-in, however busy. */
  readonly sessionMaxHours: number;
  /** A background component down this long while the database answers cannot be restarted: the process exits (70). */
  readonly componentGiveUpSeconds: number;
  // commerce
  /** Subscriptions the renewals sweep claims and renews in one transaction. */
  readonly renewalBatchSize: number;
  /** Whether `/console` is served (`LANDLORD_CONSOLE=off` turns it off). */
  readonly console: boolean;
  /** An operator's console session ends after this many idle minutes. */
  readonly consoleIdleMinutes: number;
}

/** A configuration value that stops start-up; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment into a frozen {@link Config}, or throws a {@link ConfigError} naming the bad variable. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const config: Config = {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: nonEmpty(env, 'HOST') ?? '127.0.0.1',
    databaseUrl: databaseUrl(env),
    dataDir: resolve(cwd, nonEmpty(env, 'LANDLORD_DATA_DIR') ?? '.landlord'),
    adminKey: adminKey(env),
    role: oneOf(env, 'LANDLORD_ROLE', ROLES, 'all'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    rateLimitPerMinute: integer(env, 'LANDLORD_RATE_LIMIT', 6000, 0, 10_000_000),
    encryptionKey: encryptionKey(env),
    egressAllow: Object.freeze(list(env, 'LANDLORD_EGRESS_ALLOW')),
    workerConcurrency: integer(env, 'LANDLORD_WORKER_CONCURRENCY', 16, 1, 1000),
    workerPollMs: integer(env, 'LANDLORD_WORKER_POLL_MS', 1000, 10, 60_000),
    retryBaseMs: integer(env, 'LANDLORD_RETRY_BASE_MS', 30_000, 1, 3_600_000),
    nodeTimeoutSeconds: integer(env, 'LANDLORD_NODE_TIMEOUT_SECONDS', 30, 1, 3600),
    // 128, not more: in the 100,000-tenant bench 256 made the round no faster and API reads slower (p99 60 ms against 43).
    healthConcurrency: integer(env, 'LANDLORD_HEALTH_CONCURRENCY', 128, 0, 10_000),
    healthPerProduct: integer(env, 'LANDLORD_HEALTH_PER_PRODUCT', 128, 1, 10_000),
    healthPerHost: integer(env, 'LANDLORD_HEALTH_PER_HOST', 64, 1, 10_000),
    healthTickMs: integer(env, 'LANDLORD_HEALTH_TICK_MS', 100, 10, 60_000),
    healthProbeRetentionHours: integer(env, 'LANDLORD_HEALTH_PROBE_RETENTION_HOURS', 48, 1, 24 * 365),
    healthHourlyRetentionDays: integer(env, 'LANDLORD_HEALTH_HOURLY_RETENTION_DAYS', 35, 1, 3650),
    webhookTimeoutMs: integer(env, 'LANDLORD_WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000),
    databasePoolSize: integer(env, 'LANDLORD_DATABASE_POOL_SIZE', 40, 2, 1000),
    publicUrl: publicUrl(env),
    sessionIdleMinutes: integer(env, 'LANDLORD_SESSION_IDLE_MINUTES', 60, 1, 7 * 24 * 60),
    sessionMaxHours: integer(env, 'LANDLORD_SESSION_MAX_HOURS', 12, 1, 24 * 90),
    componentGiveUpSeconds: integer(env, 'LANDLORD_COMPONENT_GIVE_UP_SECONDS', 120, 1, 86_400),
    // commerce
    renewalBatchSize: integer(env, 'LANDLORD_RENEWAL_BATCH_SIZE', DEFAULT_RENEWAL_BATCH_SIZE, 1, 10_000),
    console: oneOf(env, 'LANDLORD_CONSOLE', ['on', 'off'] as const, 'on') === 'on',
    consoleIdleMinutes: integer(env, 'LANDLORD_CONSOLE_IDLE_MINUTES', 30, 1, 24 * 60),
  };
  return Object.freeze(config);
}

// Where browsers reach Landlord (behind a proxy, not its own address): links it hands out point there.
function publicUrl(env: Env): string | undefined {
  const raw = nonEmpty(env, 'LANDLORD_PUBLIC_URL');
  if (raw === undefined) return undefined;
  const url = URL.parse(raw);
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
    throw new ConfigError(`LANDLORD_PUBLIC_URL must be an http(s) URL without query, fragment or credentials, got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function list(env: Env, name: string): string[] {
  const raw = nonEmpty(env, name);
  return raw === undefined
    ? []
    : raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
}

function databaseUrl(env: Env): string | undefined {
  const raw = nonEmpty(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL is not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return raw;
}

function adminKey(env: Env): string | undefined {
  const raw = nonEmpty(env, 'LANDLORD_ADMIN_KEY');
  // A short admin key is guessable; 32 characters is the floor for a bearer secret.
  if (raw !== undefined && raw.length < 32) {
    throw new ConfigError('LANDLORD_ADMIN_KEY must be at least 32 characters long');
  }
  return raw;
}

function encryptionKey(env: Env): Buffer | undefined {
  const raw = nonEmpty(env, 'LANDLORD_ENCRYPTION_KEY');
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('LANDLORD_ENCRYPTION_KEY must be 32 bytes encoded as base64');
  }
  return key;
}
