import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type ConnectionDeps, createConnection } from '../connections/connections.service.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { answerFor } from '../http/error-handler.ts';
import type { HttpApp } from '../http/types.ts';
import { baseUrlOf, LoginLink, LoginLinkRequest } from '../login-links/login-links.routes.ts';
import { createLoginLink, type LoginLinkDeps } from '../login-links/login-links.service.ts';
import { addMembership } from '../people/memberships.service.ts';
import type { LifecycleDeps } from '../tenants/transitions.ts';
import { type DocumentedRoute, documentedRoute, registerResellerDocument } from './reseller-openapi.ts';
import { registerResellerReads } from './reseller-reads.routes.ts';
import {
  createResellerTenant,
  deleteResellerTenant,
  ownedTenant,
  toResellerUser,
  updateResellerTenant,
} from './reseller-tenants.service.ts';
import {
  CodeNameParams,
  failures,
  ResellerConnection,
  ResellerConnectionCreate,
  ResellerTenant,
  ResellerTenantCreate,
  ResellerTenantUpdate,
  ResellerUser,
  ResellerUserCreate,
} from './resellers.schemas.ts';
import { authenticateReseller } from './resellers.service.ts';

/** What the reseller API needs. */
export type ResellerApiDeps = LifecycleDeps & ConnectionDeps & LoginLinkDeps;

const tags = ['Reseller API'];

/**
 * The Sharespine reseller API under `/reseller`: HTTP Basic (`username:password`) plus
 * `X-Reseller: <code>` on every request, checked before the body is read; anything
 * missing or wrong is the same 401. Answers are Sharespine's plain JSON and errors are
 * `{ "message": … }`. A reseller sees only the tenants it created; others are 404.
 */
export async function registerResellerApi(app: HttpApp, db: Db, deps: ResellerApiDeps): Promise<void> {
  const documented: DocumentedRoute[] = [];
  registerResellerDocument(app, documented);
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        // Public to the bearer hook (this scope authenticates), still rate limited; in its own document, not the native one.
        route.config = { ...route.config, public: true, throttled: true };
        documented.push(...documentedRoute(route));
        route.schema = { ...route.schema, hide: true };
      });
      scope.addHook('onRequest', async (request) => {
        request.principal = await authenticateReseller(db, request.headers.authorization, header(request, 'x-reseller'));
      });
      scope.setErrorHandler((error, request, reply) => {
        const answer = answerFor(error as Parameters<typeof answerFor>[0], request);
        if (answer.status === 401) reply.header('www-authenticate', 'Basic realm="reseller"');
        const message = answer.items.map((item) => item.message).join('; ') || 'Error';
        return reply
          .code(answer.status)
          .headers(answer.headers)
          .type('application/json; charset=utf-8')
          .send(answer.internal ? { message, requestId: request.id } : { message });
      });
      scope.setNotFoundHandler((request, reply) =>
        reply.code(404).send({ message: `No endpoint ${request.method} ${request.url.split('?')[0]}` }),
      );
      registerRoutes(scope as unknown as HttpApp, db, deps);
      registerResellerReads(scope as unknown as HttpApp, db);
    },
    { prefix: '/reseller' },
  );
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

// A native tenant may take a code name between the pick and the insert: pick again.
async function withFreshCodeName<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof AppError && error.code === 'tenant.name_taken')) throw error;
    }
  }
}

function registerRoutes(app: HttpApp, db: Db, deps: ResellerApiDeps): void {
  app.post(
    '/tenant',
    {
      schema: {
        tags,
        summary: 'Create tenant',
        body: ResellerTenantCreate,
        response: { 201: Type.Object({ codeName: Type.String() }), ...failures(400, 401, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const codeName = await withFreshCodeName(() =>
        db.transaction().execute((tx) => createResellerTenant(tx, deps, callerOf(request), request.body)),
      );
      return reply.code(201).send({ codeName });
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/tenant/:codeName',
      {
        schema: {
          tags,
          summary: 'Update tenant',
          description: 'Fields given replace the current ones. `active: false` deactivates the tenant, `true` activates it again.',
          params: CodeNameParams,
          body: ResellerTenantUpdate,
          response: { 200: ResellerTenant, ...failures(400, 401, 404, 409, 413, 429) },
        },
      },
      async (request) =>
        db.transaction().execute((tx) => updateResellerTenant(tx, deps, callerOf(request), request.params.codeName, request.body)),
    );
  }

  app.delete(
    '/tenant/:codeName',
    {
      schema: {
        tags,
        summary: 'Delete tenant',
        description:
          'Deletes the tenant: the customer cancelled (all the tenant’s data will be lost). A live tenant is deactivated first and deleted as soon as it is inactive, each step through the product’s backend; the answer shows where it is now.',
        params: CodeNameParams,
        response: { 200: ResellerTenant, ...failures(401, 404, 409, 429) },
      },
    },
    async (request) => db.transaction().execute((tx) => deleteResellerTenant(tx, deps, callerOf(request), request.params.codeName)),
  );

  app.post(
    '/tenant/:codeName/user',
    {
      schema: {
        tags,
        summary: 'Create tenant user',
        description: 'A person new to Landlord is created at once (the reseller vouches for them), so a login link can follow right away.',
        params: CodeNameParams,
        body: ResellerUserCreate,
        response: { 201: ResellerUser, ...failures(400, 401, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const view = await db.transaction().execute(async (tx) => {
        const tenant = await ownedTenant(tx, caller, request.params.codeName);
        return addMembership(tx, deps, caller, tenant.id, request.body, { onUnknownEmail: 'create' });
      });
      return reply.code(201).send(toResellerUser(view));
    },
  );

  app.post(
    '/tenant/:codeName/connection',
    {
      schema: {
        tags,
        summary: 'Create an API connection',
        description: 'The answer is the only one that shows `secret`.',
        params: CodeNameParams,
        body: ResellerConnectionCreate,
        response: { 201: ResellerConnection, ...failures(400, 401, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const created = await db.transaction().execute(async (tx) => {
        const tenant = await ownedTenant(tx, caller, request.params.codeName);
        return createConnection(tx, deps, caller, tenant.id, request.body);
      });
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/tenant/:codeName/login/:login',
    {
      schema: {
        tags,
        summary: 'Create a login URL for a tenant user',
        params: Type.Object({ ...CodeNameParams.properties, login: Type.String({ minLength: 1, maxLength: 254 }) }),
        body: LoginLinkRequest,
        response: { 200: LoginLink, ...failures(400, 401, 404, 409, 413, 429) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return db.transaction().execute(async (tx) => {
        const tenant = await ownedTenant(tx, caller, request.params.codeName);
        return createLoginLink(tx, deps, caller, tenant.id, request.params.login, request.body, baseUrlOf(request, deps.publicUrl));
      });
    },
  );
}
