import { Type } from 'typebox';
import { createApiKey } from '../access/api-keys.service.ts';
import { issueClientToken } from '../access/clients.service.ts';
import { requireRole } from '../access/principal.ts';
import { readPublishedPlans, readPublishedSpecifications } from '../catalogue/catalogue.read.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { errors } from '../http/envelope.ts';
import { answerFor, sendError } from '../http/error-handler.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { CHANGE_KINDS } from '../plan-changes/change-rules.ts';
import { reportChange } from '../plan-changes/plan-changes.reports.ts';
import type { Clock } from '../platform/clock.ts';
import type { KeyRing } from '../platform/signing-keys.ts';
import type { LifecycleDeps } from '../tenants/transitions.ts';
import { NameParams, RosaasAuth, RosaasDone, rosaasDone, rosaasEnvelope, rosaasOk } from './rosaas.schemas.ts';
import { registerRosaasTenantRoutes } from './rosaas-tenants.routes.ts';

const tags = ['RoSaaS compatibility'];
// RoSaaS answers a missing or foreign resource with 400 and sysCode 1005, with this message.
const NOT_FOUND_MESSAGE = "This Resource does not exist or may be deleted or You don't have access";

/**
 * The RoSaaS External System API (`/api/identity/apps/v1`, `/api/management/apps/v1`)
 * as a thin adapter over Landlord's own services, so a backend written against the
 * RoSaaS integration guide works unchanged. Everything is scoped to the calling
 * client's product.
 */
export async function registerRosaasRoutes(app: HttpApp, db: Db, deps: LifecycleDeps & { keyRing: KeyRing; clock: Clock }): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => {
      const answer = answerFor(error as Parameters<typeof answerFor>[0], request);
      if (answer.status !== 404) return sendError(reply, answer);
      const items = answer.items.map((item) => ({ ...item, message: NOT_FOUND_MESSAGE }));
      return sendError(reply, { ...answer, status: 400, items });
    });
    registerRoutes(scope as unknown as HttpApp, db, deps);
  });
}

function registerRoutes(app: HttpApp, db: Db, deps: LifecycleDeps & { keyRing: KeyRing; clock: Clock }): void {
  app.post(
    '/api/identity/apps/v1/auth',
    {
      config: { public: true, throttled: true },
      schema: {
        tags,
        summary: 'Generate client access token for external system',
        security: [],
        body: RosaasAuth,
        response: {
          200: rosaasEnvelope(
            Type.Object({ token: Type.Object({ accessToken: Type.String(), expiresIn: Type.Integer(), tokenType: Type.String() }) }),
          ),
          ...errors(400, 429),
        },
      },
    },
    async (request) => {
      const issued = await issueClientToken(db, deps.keyRing, deps.clock, request.body.clientId, request.body.clientSecret);
      return rosaasOk({ token: { accessToken: issued.accessToken, expiresIn: issued.expiresIn, tokenType: issued.tokenType } });
    },
  );

  registerRosaasTenantRoutes(app, db, deps);

  for (const change of CHANGE_KINDS) {
    for (const [suffix, outcome] of [
      ['', 'applied'],
      ['/failure', 'failed'],
    ] as const) {
      app.post(
        `/api/management/apps/v1/tenants/:name/subscription/${change}${suffix}`,
        {
          schema: {
            tags,
            summary: `Set subscription as ${change} ${outcome === 'applied' ? 'applied done' : 'failed'}`,
            params: NameParams,
            body: Type.Optional(Type.Unknown()),
            response: { 200: RosaasDone, ...errors(400, 401, 403, 409, 413, 429) },
          },
        },
        async (request) => {
          await db
            .transaction()
            .execute((tx) => reportChange(tx, deps, callerOf(request), request.params.name, { kind: change, outcome, body: request.body }));
          return rosaasDone();
        },
      );
    }
  }

  app.get(
    '/api/management/apps/v1/plans',
    {
      schema: {
        tags,
        summary: 'Get plans list (with prices)',
        response: { 200: rosaasEnvelope(Type.Array(Type.Unknown())), ...errors(400, 401, 429) },
      },
    },
    async (request) => rosaasOk(await readPublishedPlans(db, productOf(request))),
  );

  app.get(
    '/api/management/apps/v1/specifications',
    {
      schema: {
        tags,
        summary: 'Get specifications list',
        response: { 200: rosaasEnvelope(Type.Array(Type.Unknown())), ...errors(400, 401, 429) },
      },
    },
    async (request) => rosaasOk(await readPublishedSpecifications(db, productOf(request))),
  );

  app.post(
    '/api/management/apps/v1/tempendpoints/admins',
    {
      schema: {
        tags,
        summary: 'Create super admin',
        description: 'Super admins only: creates a super-admin operator key (shown once in this answer).',
        body: Type.Object({ email: Type.String({ format: 'email', maxLength: 254 }) }, { additionalProperties: true }),
        response: {
          201: rosaasEnvelope(Type.Object({ id: Type.String(), name: Type.String(), apiKey: Type.String() })),
          ...errors(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      requireRole(caller.principal, 'super_admin');
      const created = await db
        .transaction()
        .execute((tx) => createApiKey(tx, caller.actor, { name: request.body.email, role: 'super_admin' }));
      return reply.code(201).send(rosaasOk({ id: created.id, name: request.body.email, apiKey: created.key }));
    },
  );
}

/** The product a RoSaaS catalogue read is about: the calling client's own. */
function productOf(request: Parameters<typeof principalOf>[0]): string {
  const productId = principalOf(request).productId;
  if (!productId)
    throw new AppError('request.invalid', { message: 'Read the catalogue with a credential of the product (a product client)', more: [] });
  return productId;
}
