import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { HttpApp } from './types.ts';

/** Answers whether this node's database is reachable and migrated. */
export type ReadinessCheck = () => Promise<{ database: boolean; migrations: boolean }>;

/** The node's background components: their states by name, and whether every one this node should run is running. */
export type ComponentsCheck = () => { ready: boolean; states: Record<string, string> };

// A database that does not answer within this long is unreachable, whatever the reason.
const DATABASE_CHECK_MS = 3000;

const Health = Type.Object({ status: Type.String() });
const Readiness = Type.Object({
  status: Type.String(),
  database: Type.Boolean(),
  migrations: Type.Boolean(),
  components: Type.Record(Type.String(), Type.String(), {
    description: 'Each background component and its state (`running`, `restarting`…)',
  }),
});

/**
 * `/healthz` (process up), `/readyz` (database reachable and migrated, and every
 * background component of this node running; 503 otherwise), `/metrics` (Prometheus).
 */
export function registerOpsRoutes(app: HttpApp, deps: { readiness: ReadinessCheck; components: ComponentsCheck; metrics: Registry }): void {
  const config = { public: true };
  app.get('/healthz', { config, schema: { hide: true, response: { 200: Health } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config, schema: { hide: true, response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ database: boolean; migrations: boolean }>((resolve) => {
      timer = setTimeout(() => resolve({ database: false, migrations: false }), DATABASE_CHECK_MS);
    });
    const checks = await Promise.race([deps.readiness().catch(() => ({ database: false, migrations: false })), timeout]);
    clearTimeout(timer);
    const components = deps.components();
    const ready = checks.database && checks.migrations && components.ready;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...checks, components: components.states });
  });

  app.get('/metrics', { config, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
}
