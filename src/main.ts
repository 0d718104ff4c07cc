import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { type Authenticator, createAuthenticator } from './access/authenticator.ts';
import type { Config } from './config/config.ts';
import { type DatabaseHandle, openNodeDatabase } from './db/connect.ts';
import type { Db } from './db/database.ts';
import { createListener } from './db/listener.ts';
import { migrate, migrationsApplied, readMigrations } from './db/migrate.ts';
import { warnAboutServerSettings } from './db/server-settings.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';
import { openapiWebhooks } from './events/event-types.ts';
import { createSequencerNudge } from './events/nudge.ts';
import { sequencerComponent } from './events/sequencer.ts';
import { healthProberComponent } from './health/health.node.ts';
import { compileDeferredSchemas, createHttpApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { registerOpsRoutes } from './http/ops.routes.ts';
import type { HttpApp } from './http/types.ts';
import { forgetNode, type NodeIdentity, nodeHeartbeatComponent } from './jobs/nodes.ts';
import { type SupervisedSweep, sweepComponent } from './jobs/sweeper.ts';
import { jobRunnerComponent, migrateJobQueue } from './jobs/worker.ts';
import { type Clock, systemClock } from './platform/clock.ts';
import { createEgressPolicy } from './platform/egress.ts';
import { createLogger } from './platform/logger.ts';
import { createOutboundHttp } from './platform/outbound.ts';
import { createSecretBox, loadEncryptionKey } from './platform/secret-box.ts';
import { loadKeyRing, SIGNING_KEYS_CHANNEL } from './platform/signing-keys.ts';
import { type ComponentFailedError, createSupervisor, type Supervisor } from './platform/supervisor.ts';
import { registerFeatureRoutes, type Services } from './routes.ts';
import { buildSweeps, buildTasks } from './tasks.ts';
import { deliveriesDerivation, releaseDeliveryLeases } from './webhooks/deliveries.repo.ts';
import { dispatcherComponent } from './webhooks/dispatcher.ts';

/** A running Landlord node. */
export interface Landlord {
  /** Where the HTTP API listens (`http://127.0.0.1:8080`). */
  url: string;
  app: HttpApp;
  database: DatabaseHandle;
  services: Services;
  log: Logger;
  /** Keeps every background component of this node running (states and restarts). */
  supervisor: Supervisor;
  /** The sweeps this node runs, by sweep name (`runNow` sweeps at once). */
  sweeps: ReadonlyMap<string, SupervisedSweep>;
  /** Stops taking requests and jobs, finishes what runs, and closes the database. */
  close(): Promise<void>;
}

/** Options tests and tools pass in place of the real ones. */
export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /**
   * Called once when a background component cannot be restarted (see `platform/supervisor.ts`).
   * By default the process exits with code 70 so that whatever runs it starts a new one.
   */
  onFatal?: (error: ComponentFailedError) => void;
  /**
   * The database, already being opened: the CLI starts it (the embedded server's start is mostly
   * waiting on another process) before it loads the rest of Landlord, so the two overlap.
   */
  database?: Promise<DatabaseHandle>;
}

/** The exit code of a node that gave up on a background component. */
export const EXIT_COMPONENT_FAILED = 70;

/**
 * The composition root: builds every part of a Landlord node from the configuration
 * with plain factory functions, in dependency order, and returns the running node.
 * Every background part runs as a component of the node's supervisor.
 */
export async function startLandlord(config: Config, options: StartOptions = {}): Promise<Landlord> {
  const log = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const database = await (options.database ?? openNodeDatabase(config, log));
  const { db } = database;
  const metrics = createMetrics();
  const supervisor = createSupervisor({
    log,
    metrics,
    databaseAnswers: () => databaseAnswers(db),
    onFatal: options.onFatal ?? ((error) => exitOnFatal(log, error, closeAll)),
    giveUpAfterMs: config.componentGiveUpSeconds * 1000,
  });
  const node: NodeIdentity = { id: randomUUID(), role: config.role, workerPoolId: undefined };
  const cleanups: Array<() => Promise<unknown>> = [() => database.close()];
  // Background work stops first (and the node leaves the registry), then the rest, last started first.
  let closing: Promise<void> | undefined;
  const closeAll = () =>
    (closing ??= (async () => {
      const steps = [() => supervisor.stop(), () => forgetNode(db, node.id), ...[...cleanups].reverse()];
      for (const step of steps) await step().catch((error) => log.error({ err: error }, 'shutdown step failed'));
    })());

  try {
    const migrations = await readMigrations();
    const { applied } = await migrate(database.pool, migrations);
    if (applied.length) log.info({ applied }, 'migrations applied');
    await warnAboutServerSettings(db, log);
    await migrateJobQueue(database.pool, log);
    if (database.server) await supervisor.run(database.server);

    const box = createSecretBox(await loadEncryptionKey(db, config.encryptionKey));
    const keyRing = await loadKeyRing(db, box, clock);
    const shared = createListener(database.connectionString);
    await supervisor.run(shared.component);
    const { listener } = shared;
    // A key rotated on any node signs (and is published) on every node from then on.
    await listener.on(SIGNING_KEYS_CHANNEL, () => {
      keyRing.reload().catch((error) => warnUnlessUnavailable(log, error, 'signing key reload'));
    });
    const authenticator: Authenticator = await createAuthenticator({
      db,
      listener,
      keyRing,
      adminKey: config.adminKey,
      clock,
      onError: (error) => warnUnlessUnavailable(log, error, 'credential cache'),
    });
    cleanups.push(() => authenticator.close());
    const http = createOutboundHttp({ egress: createEgressPolicy(config.egressAllow) });
    cleanups.push(() => http.close());
    // Known once the node listens (tests use port 0); LANDLORD_PUBLIC_URL when set.
    let listeningUrl = '';
    const baseUrl = () => config.publicUrl ?? listeningUrl;
    const nudgeSequencer = createSequencerNudge(db, (error) => warnUnlessUnavailable(log, error, 'sequencer nudge'));
    const services: Services = {
      db,
      box,
      clock,
      keyRing,
      config,
      log,
      http,
      nodeId: node.id,
      authenticator,
      listener,
      baseUrl,
      metrics,
      nudgeSequencer,
    };
    services.componentStates = () => supervisor.states();

    let componentsStarted = false;
    const app = await createHttpApp({
      config,
      db,
      box,
      clock,
      logger: log,
      authenticator,
      metrics,
      webhooks: openapiWebhooks(),
      routes: async (app) => {
        registerOpsRoutes(app, {
          metrics,
          readiness: async () => {
            await sql`select 1`.execute(db);
            return { database: true, migrations: await migrationsApplied(database.pool, migrations.length) };
          },
          components: () => ({ ready: componentsStarted && supervisor.allRunning(), states: supervisor.states() }),
        });
        if (config.role !== 'worker') await registerFeatureRoutes(app, services);
      },
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ port: config.port, host: config.host });
    listeningUrl = url;
    // Route schemas were left uncompiled to start sooner: compile them now, between requests.
    const schemasCompiled = compileDeferredSchemas(app);
    schemasCompiled.catch((error: unknown) => log.error({ err: error }, 'a route schema does not compile'));

    await supervisor.run(
      nodeHeartbeatComponent({
        db,
        node,
        heartbeatMs: Math.max(1000, (config.nodeTimeoutSeconds * 1000) / 3),
        deadAfterMs: config.nodeTimeoutSeconds * 1000,
        onNodesDead: releaseDeliveryLeases,
      }),
    );
    const sweeps = new Map<string, SupervisedSweep>();
    if (config.role !== 'api') {
      const { tasks, schedules } = buildTasks(services, database.pool);
      await supervisor.run(
        jobRunnerComponent({
          pool: database.pool,
          db,
          tasks,
          schedules,
          concurrency: config.workerConcurrency,
          pollIntervalMs: config.workerPollMs,
          log,
          node,
        }),
      );
      await supervisor.run(
        sequencerComponent({
          db,
          listener,
          derivation: deliveriesDerivation(() => clock.now()),
        }),
      );
      await supervisor.run(dispatcherComponent({ db, box, clock, http, nodeId: node.id, timeoutMs: config.webhookTimeoutMs }, listener));
      for (const sweep of buildSweeps(services)) {
        const component = sweepComponent(sweep);
        sweeps.set(sweep.name, component);
        await supervisor.run(component);
      }
      const prober = healthProberComponent(services);
      if (prober) await supervisor.run(prober);
    }
    componentsStarted = true;

    return { url, app, database, services, log, supervisor, sweeps, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Whether the database answers a trivial query now. */
async function databaseAnswers(db: Db): Promise<boolean> {
  await sql`select 1`.execute(db);
  return true;
}

/** A background error worth a warning, unless it is only the database being away (the supervisor and readiness report that once). */
function warnUnlessUnavailable(log: Logger, error: unknown, message: string): void {
  if (isDatabaseUnavailable(error)) log.debug({ err: error }, message);
  else log.warn({ err: error }, message);
}

/** A node that cannot restart a component is no use half alive: it closes what it can and exits, so that its supervisor starts a new one. */
function exitOnFatal(log: Logger, error: ComponentFailedError, close: () => Promise<void>): void {
  log.fatal({ err: error, component: error.component }, 'exiting: a background component cannot be restarted');
  process.exitCode = EXIT_COMPONENT_FAILED;
  setTimeout(() => process.exit(EXIT_COMPONENT_FAILED), 10_000).unref();
  void close().finally(() => process.exit(EXIT_COMPONENT_FAILED));
}
