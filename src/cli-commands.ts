import { parseArgs } from 'node:util';
import type pg from 'pg';
import { anyActiveApiKey, createApiKey, listApiKeys, revokeApiKey } from './access/api-keys.service.ts';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { consoleLinkCommand } from './console/console-link.command.ts';
import { openDatabaseForCli, openNodeDatabase } from './db/connect.ts';
import { DataDirInUseError } from './db/data-dir-lock.ts';
import type { Db } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { AppError } from './errors/app-error.ts';
import { migrateJobQueue } from './jobs/worker.ts';
import type { Landlord } from './main.ts';
import { systemClock } from './platform/clock.ts';
import { createLogger } from './platform/logger.ts';

const CLI_ACTOR = { type: 'admin_key' as const, id: 'cli', requestId: null };

const USAGE = `Usage: landlord <command>

  start                      Run Landlord (HTTP API and background worker, per LANDLORD_ROLE)
  migrate                    Apply database migrations and exit
  keys create --name NAME [--role super_admin|product_admin] [--product PRODUCT]
                             Create an operator API key (shown once)
  keys list                  List operator API keys
  keys revoke ID_OR_PREFIX   Revoke an operator API key
  console link [--key ID_OR_PREFIX]
                             Print a one-time console sign-in link (5 minutes; a super admin,
                             or the rights of the key named)

Configuration comes from the environment: PORT, HOST, DATABASE_URL, LANDLORD_DATA_DIR,
LANDLORD_ADMIN_KEY, LANDLORD_ROLE, LOG_LEVEL (see README.md).`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'start':
      return start(config);
    case 'migrate':
      return withDatabase(config, async (_db, _pool, applied) => {
        console.log(applied.length ? `Applied ${applied.join(', ')}` : 'The database is up to date.');
      });
    case 'keys':
      return keys(config, rest);
    case 'console':
      if (rest[0] !== 'link') throw new AppError('request.invalid', { message: 'Usage: landlord console link [--key ID_OR_PREFIX]' });
      return withDatabase(config, async (db) => {
        console.log(await consoleLinkCommand(db, config, systemClock, CLI_ACTOR, rest.slice(1)));
      });
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

async function start(config: Config): Promise<number> {
  const started = Date.now();
  // The handlers go in before anything starts: a SIGTERM during start-up (a deploy that is
  // cancelled, a probe that gave up) must still stop the embedded PostgreSQL server cleanly
  // instead of killing this process and orphaning it. Such a signal is acted on once started.
  let running: Landlord | undefined;
  let signalled: string | undefined;
  const onSignal = (signal: string) => {
    if (signalled) {
      process.stderr.write(`landlord: second ${signal}: exiting at once\n`);
      process.exit(1);
    }
    signalled = signal;
    if (running) stop(running, signal);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // The last resort, not the design (every background failure is contained and supervised):
  // an error nothing handled leaves the process in an unknown state, so it says so and exits non-zero.
  const lastResort = (kind: string) => (error: unknown) => {
    running?.log.fatal({ err: error }, `${kind}: exiting`);
    process.stderr.write(`landlord: ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', lastResort('uncaught exception'));
  process.on('unhandledRejection', lastResort('unhandled rejection'));

  // The database (the embedded server, when it is used) starts while the rest of Landlord loads:
  // main.ts and its ~300 modules are imported only now.
  const logger = createLogger(config.logLevel);
  const database = openNodeDatabase(config, logger);
  // Awaited by startLandlord; until then this only keeps Node from calling a failure unhandled.
  database.catch(() => {});
  const { startLandlord } = await import('./main.ts');
  const landlord = await startLandlord(config, { logger, database });
  const { log } = landlord;
  const hasKey = config.adminKey !== undefined || (await anyActiveApiKey(landlord.services.db));
  const lines = [
    `Landlord is listening on ${landlord.url} (role: ${config.role}), ready in ${Date.now() - started} ms`,
    landlord.database.embeddedDir
      ? `Data: embedded PostgreSQL in ${landlord.database.embeddedDir}`
      : `Data: PostgreSQL at ${redactUrl(config.databaseUrl ?? '')}`,
    `API docs: ${landlord.url}/docs  ·  OpenAPI: ${landlord.url}/openapi.json`,
    hasKey
      ? 'Admin credential: use LANDLORD_ADMIN_KEY or a key from `npm run landlord -- keys create --name NAME`'
      : 'No admin credential yet: run `npm run landlord -- keys create --name admin` (the key is shown once), or set LANDLORD_ADMIN_KEY',
  ];
  process.stderr.write(`\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`);
  log.info(
    { url: landlord.url, role: config.role, dataDir: landlord.database.embeddedDir, startupMs: Date.now() - started },
    'landlord started',
  );

  running = landlord;
  if (signalled) stop(landlord, signalled);
  return new Promise<number>(() => {});
}

/** Stops a started node in order (HTTP, worker, database) and exits. */
function stop(landlord: Landlord, signal: string): void {
  landlord.log.info({ signal }, 'shutting down');
  landlord.close().then(
    () => process.exit(0),
    (error) => {
      landlord.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}

async function keys(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: 'string' }, role: { type: 'string', default: 'super_admin' }, product: { type: 'string' } },
  });
  return withDatabase(config, async (db) => {
    if (sub === 'create') {
      if (!values.name) throw new AppError('request.invalid', { message: 'keys create needs --name NAME' });
      if (values.role !== 'super_admin' && values.role !== 'product_admin') {
        throw new AppError('request.invalid', { message: '--role must be super_admin or product_admin' });
      }
      const created = await db
        .transaction()
        .execute((tx) =>
          createApiKey(tx, CLI_ACTOR, { name: values.name as string, role: values.role as 'super_admin', product: values.product }),
        );
      console.log(`Created ${values.role} key "${values.name}" (id ${created.id}). It is shown only this once:\n\n  ${created.key}\n`);
    } else if (sub === 'list') {
      const rows = await listApiKeys(db);
      if (rows.length === 0) console.log('No API keys.');
      for (const row of rows) {
        const state = row.revokedAt ? `revoked ${row.revokedAt.toISOString()}` : `last used ${row.lastUsedAt?.toISOString() ?? 'never'}`;
        console.log(`${row.id}  ${row.prefix}…  ${row.role}${row.productId ? ` (product ${row.productId})` : ''}  "${row.name}"  ${state}`);
      }
    } else if (sub === 'revoke') {
      const ref = positionals[0];
      if (!ref) throw new AppError('request.invalid', { message: 'keys revoke needs the key id or its prefix' });
      const id = await db.transaction().execute((tx) => revokeApiKey(tx, CLI_ACTOR, ref, new Date()));
      console.log(`Revoked key ${id}.`);
    } else {
      console.error(USAGE);
      throw new AppError('request.invalid', { message: `Unknown keys subcommand "${sub ?? ''}"` });
    }
  });
}

/** Opens the database (migrated to the current version) for one command, then closes it. */
async function withDatabase(config: Config, work: (db: Db, pool: pg.Pool, applied: string[]) => Promise<void>): Promise<number> {
  const handle = await openDatabaseForCli(config, () => {});
  try {
    const { applied } = await migrate(handle.pool);
    await migrateJobQueue(handle.pool, createLogger('warn'));
    await work(handle.db, handle.pool, applied);
    return 0;
  } finally {
    await handle.close();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof AppError) {
      console.error(`landlord: ${error.message}`);
    } else {
      console.error('landlord: could not start:', error);
    }
    process.exitCode = 1;
    // Open handles (an embedded server still starting) must not keep a failed start alive.
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
