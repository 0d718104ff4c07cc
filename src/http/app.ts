import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../access/authenticator.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { installAuthHook } from './auth-hook.ts';
import { createDeferredSchemas, type DeferredSchemas, deferredSerializers, deferredValidators } from './deferred-schemas.ts';
import { frameworkErrors, installErrorHandlers } from './error-handler.ts';
import { installIdempotency } from './idempotency.ts';
import { instrumentHttp } from './metrics.ts';
import { rejectUnstorableText } from './text-guard.ts';
import type { HttpApp } from './types.ts';
import { validatorCompiler } from './validation.ts';

/** One MiB: the largest request body Landlord reads. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * One log line per request, at debug level (an access log at info would cost the hot
 * path); failures the error handler already logs with their stack.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(_error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    // Most nodes log at info or above: the line is not even built then.
    if (!(request.log as Logger).isLevelEnabled('debug')) return;
    request.log.debug(
      { method: request.method, url: withoutSecrets(request.url), status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  }
}

/** A request URL fit for the log: the one-time tokens of login, password and console links are replaced. */
export function withoutSecrets(url: string): string {
  return url.replace(/\/(login|password|link)\/[^/?#]+/, '/$1/[redacted]');
}

/** What the HTTP app needs from the composition root. */
export interface HttpDeps {
  config: Config;
  db: Db;
  box: SecretBox;
  clock: Clock;
  logger: FastifyBaseLogger;
  authenticator: Authenticator;
  metrics: Registry;
  /** OpenAPI 3.1 `webhooks`: what Landlord sends to subscribed endpoints, by event type. */
  webhooks?: Record<string, unknown>;
  /** Registers the feature routes, after the cross-cutting hooks are in place. */
  routes: (app: HttpApp) => void | Promise<void>;
}

const deferredOf = new WeakMap<HttpApp, DeferredSchemas>();

/**
 * Compiles the route schemas the app deferred from start-up (see deferred-schemas.ts).
 * The node calls it once it listens; it rejects with the first schema that does not compile.
 */
export function compileDeferredSchemas(app: HttpApp): Promise<void> {
  return deferredOf.get(app)?.compileAll() ?? Promise.resolve();
}

/**
 * Builds the Fastify app: envelope errors, validation, authentication, rate limits,
 * idempotency, metrics and the OpenAPI document, then the feature routes.
 */
export async function createHttpApp(deps: HttpDeps): Promise<HttpApp> {
  const deferred = createDeferredSchemas();
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    logController: new AccessLog(),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    frameworkErrors,
    ajv: { customOptions: { coerceTypes: true } },
    schemaController: { compilersFactory: { buildSerializer: deferredSerializers(deferred) } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  }).withTypeProvider<import('@fastify/type-provider-typebox').TypeBoxTypeProvider>() as unknown as HttpApp;

  app.setValidatorCompiler(deferredValidators(deferred, validatorCompiler));
  deferredOf.set(app, deferred);
  installErrorHandlers(app);
  // Hooks with nothing to wait for take a callback: an async hook costs every request a promise and a tick.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      rejectUnstorableText(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  installAuthHook(app, deps.authenticator);
  instrumentHttp(app, deps.metrics);

  if (deps.config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: deps.config.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => (request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`),
      // Public routes are free, except those that take secrets (token endpoints): those are throttled per address.
      allowList: (request) => request.routeOptions.config.public === true && request.routeOptions.config.throttled !== true,
      errorResponseBuilder: (_request, context) =>
        new AppError('request.rate_limited', {
          message: `More than ${context.max} requests per minute for this credential; retry after ${context.after}`,
          headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
        }),
    });
  }
  installIdempotency(app, deps.db, deps.clock, deps.box);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Landlord API',
        version: '1',
        description: 'The native API of Landlord, a control plane for SaaS tenancy. Every response uses the `{ data, metadata }` envelope.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An operator API key (`ll_…`), `LANDLORD_ADMIN_KEY`, or a client access token',
          },
        },
      },
      security: [{ bearer: [] }],
      ...(deps.webhooks ? { webhooks: deps.webhooks } : {}),
    },
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: true });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  await deps.routes(app);
  return app;
}
