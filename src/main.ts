import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { type Authenticator, createAuthenticator } from './access/authenticator.ts';
import type { Config } from './config/config.ts';
import { type DatabaseHandle, openDatabase } from './db/connect.ts';
import { createListener } from './db/listener.ts';
import { migrate, migrationsApplied, readMigrations } from './db/migrate.ts';
import { openapiWebhooks } from './events/event-types.ts';
import { startSequencer } from './events/sequencer.ts';
import { startHealthProber } from './health/health.node.ts';
import { createHttpApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { registerOpsRoutes } from './http/ops.routes.ts';
import type { HttpApp } from './http/types.ts';
import { registerNode } from './jobs/nodes.ts';
import { startSweep } from './jobs/sweeper.ts';
import { migrateJobQueue, startWorker } from './jobs/worker.ts';
import { type Clock, systemClock } from './platform/clock.ts';
import { createEgressPolicy } from './platform/egress.ts';
import { createLogger } from './platform/logger.ts';
import { createOutboundHttp } from './platform/outbound.ts';
import { createSecretBox, loadEncryptionKey } from './platform/secret-box.ts';
import { loadKeyRing, SIGNING_KEYS_CHANNEL } from './platform/signing-keys.ts';
import { registerFeatureRoutes, type Services } from './routes.ts';
import { buildSweeps, buildTasks } from './tasks.ts';
import { insertDeliveriesFor, releaseDeliveryLeases } from './webhooks/deliveries.repo.ts';
import { startDispatching } from './webhooks/dispatcher.ts';

/** A running Landlord node. */
export interface Landlord {
  /** Where the HTTP API listens (`http://127.0.0.1:8080`). */
  url: string;
  app: HttpApp;
  database: DatabaseHandle;
  services: Services;
  log: Logger;
  /** Stops taking requests and jobs, finishes what runs, and closes the database. */
  close(): Promise<void>;
}

/** Options tests and tools pass in place of the real ones. */
export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * The composition root: builds every part of a Landlord node from the configuration
 * with plain factory functions, in dependency order, and returns the running node.
 */
export async function startLandlord(config: Config, options: StartOptions = {}): Promise<Landlord> {
  const log = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const database = await openDatabase(config, (line) => log.debug({ scope: 'postgres' }, line), config.databasePoolSize);
  const cleanups: Array<() => Promise<unknown>> = [() => database.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const migrations = await readMigrations();
    const { applied } = await migrate(database.pool, migrations);
    if (applied.length) log.info({ applied }, 'migrations applied');
    await migrateJobQueue(database.pool, log);

    const { db } = database;
    const box = createSecretBox(await loadEncryptionKey(db, config.encryptionKey));
    const keyRing = await loadKeyRing(db, box, clock);
    const listener = await createListener(database.connectionString, (error) => log.warn({ err: error }, 'listener connection'));
    cleanups.push(() => listener.close());
    // A key rotated on any node signs (and is published) on every node from then on.
    await listener.on(SIGNING_KEYS_CHANNEL, () => {
      keyRing.reload().catch((error) => log.warn({ err: error }, 'signing key reload'));
    });
    const authenticator: Authenticator = await createAuthenticator({
      db,
      listener,
      keyRing,
      adminKey: config.adminKey,
      clock,
      onError: (error) => log.warn({ err: error }, 'credential listener'),
    });
    cleanups.push(() => authenticator.close());
    const http = createOutboundHttp({ egress: createEgressPolicy(config.egressAllow) });
    cleanups.push(() => http.close());
    // Known once the node listens (tests use port 0); LANDLORD_PUBLIC_URL when set.
    let listeningUrl = '';
    const baseUrl = () => config.publicUrl ?? listeningUrl;
    const services: Services = { db, box, clock, keyRing, config, log, http, nodeId: randomUUID(), authenticator, listener, baseUrl };

    const metrics = createMetrics();
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
        });
        if (config.role !== 'worker') await registerFeatureRoutes(app, services);
      },
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ port: config.port, host: config.host });
    listeningUrl = url;

    let workerPoolId: string | undefined;
    if (config.role !== 'api') {
      const sequencer = await startSequencer({
        db,
        listener,
        onSequenced: async (tx, events) => {
          await insertDeliveriesFor(tx, events, clock.now());
        },
        onError: (error) => log.warn({ err: error }, 'event sequencer'),
      });
      cleanups.push(() => sequencer.stop());
      const dispatching = await startDispatching(
        {
          db,
          box,
          clock,
          http,
          nodeId: services.nodeId,
          timeoutMs: config.webhookTimeoutMs,
          onError: (error) => log.warn({ err: error }, 'webhook dispatcher'),
        },
        listener,
      );
      cleanups.push(() => dispatching.stop());
      const { tasks, schedules } = buildTasks(services, database.pool);
      const worker = await startWorker({
        pool: database.pool,
        tasks,
        schedules,
        concurrency: config.workerConcurrency,
        pollIntervalMs: config.workerPollMs,
        log,
      });
      workerPoolId = worker.poolId;
      cleanups.push(() => worker.runner.stop());
      for (const sweep of buildSweeps(services)) {
        const running = startSweep(sweep, (error) => log.warn({ err: error, sweep: sweep.name }, 'sweep failed'));
        cleanups.push(() => running.stop());
      }
      const prober = startHealthProber(services);
      cleanups.push(() => prober.stop());
    }
    const registration = await registerNode({
      db,
      nodeId: services.nodeId,
      role: config.role,
      workerPoolId,
      heartbeatMs: Math.max(1000, (config.nodeTimeoutSeconds * 1000) / 3),
      deadAfterMs: config.nodeTimeoutSeconds * 1000,
      onNodesDead: releaseDeliveryLeases,
      onError: (error) => log.warn({ err: error }, 'node heartbeat'),
    });
    cleanups.push(() => registration.stop());

    return { url, app, database, services, log, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
