import { Type } from 'typebox';
import { type Caller, requireRole } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import { getUser } from '../people/users.service.ts';
import type { Clock } from '../platform/clock.ts';
import { listLiveSessions, type Session } from '../sessions/session-store.ts';
import { endUserSession } from './session-actions.ts';

const UserSession = Type.Object({
  id: Type.String({ description: 'Public: a channel may check it; revoking it signs the browser out' }),
  method: Type.String({ description: '`password`, `login_link` or `password_link`' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  idleExpiresAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
const Params = Type.Object({ user: Type.String({ minLength: 1, maxLength: 320, description: 'User id or e-mail' }) });

const view = (session: Session) => ({
  id: session.id,
  method: session.method,
  ip: session.ip,
  userAgent: session.userAgent,
  createdAt: session.createdAt.toISOString(),
  lastSeenAt: session.lastSeenAt.toISOString(),
  idleExpiresAt: session.idleExpiresAt.toISOString(),
  expiresAt: session.absoluteExpiresAt.toISOString(),
});

/** The user, if the caller may see them (a product's credential: only users of its tenants; else 404). */
async function visibleUser(db: Db, caller: Caller, ref: string) {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  return getUser(db, caller.principal, ref);
}

/** `GET /v1/users/{user}/sessions` and `DELETE /v1/users/{user}/sessions/{session}`: a user's Landlord sessions. */
export function registerUserSessionRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.get(
    '/v1/users/:user/sessions',
    {
      schema: {
        tags: ['Identity'],
        summary: 'List a user’s live Landlord sessions',
        description: 'Operators and the product’s clients (only users of the product’s tenants; anyone else is 404). Newest first.',
        params: Params,
        response: { 200: envelope(Type.Array(UserSession)), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const user = await visibleUser(db, callerOf(request), request.params.user);
      return ok((await listLiveSessions(db, deps.clock, 'user', user.id)).map(view));
    },
  );

  app.delete(
    '/v1/users/:user/sessions/:session',
    {
      schema: {
        tags: ['Identity'],
        summary: 'Revoke a user’s Landlord session',
        description:
          'The browser is signed out at once, the OIDC grants and refresh tokens given under the session end, and a channel checking the session id hears it is over. Emits `session.revoked`.',
        params: Type.Object({ ...Params.properties, session: Type.String({ format: 'uuid' }) }),
        response: { 200: envelope(Type.Object({ id: Type.String(), revoked: Type.Boolean() })), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return ok(
        await db.transaction().execute(async (tx) => {
          const user = await visibleUser(tx, caller, request.params.user);
          const live = (await listLiveSessions(tx, deps.clock, 'user', user.id)).some((session) => session.id === request.params.session);
          if (!live) throw new AppError('session.not_found', { parameter: 'session' });
          await endUserSession(
            tx,
            deps.clock,
            caller.actor,
            { id: request.params.session, userId: user.id, productId: caller.principal.productId },
            'revoked_by_product',
          );
          return { id: request.params.session, revoked: true };
        }),
      );
    },
  );
}
