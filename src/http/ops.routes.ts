import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { HttpApp } from './types.ts';

/** Answers whether this node can serve: database reachable and migrations applied. */
export type ReadinessCheck = () => Promise<{ database: boolean; migrations: boolean }>;

const Health = Type.Object({ status: Type.String() });
const Readiness = Type.Object({ status: Type.String(), database: Type.Boolean(), migrations: Type.Boolean() });

/** `/healthz` (process up), `/readyz` (database and migrations), `/metrics` (Prometheus). */
export function registerOpsRoutes(app: HttpApp, deps: { readiness: ReadinessCheck; metrics: Registry }): void {
  const config = { public: true };
  app.get('/healthz', { config, schema: { hide: true, response: { 200: Health } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config, schema: { hide: true, response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const checks = await deps.readiness().catch(() => ({ database: false, migrations: false }));
    const ready = checks.database && checks.migrations;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...checks });
  });

  app.get('/metrics', { config, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
}
