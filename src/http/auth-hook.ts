import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../access/authenticator.ts';
import { hookWhen } from './hooks.ts';

/** Authenticates every request to a non-public route before its body is read. */
export function installAuthHook(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook(
    'onRequest',
    hookWhen(
      (request) => !request.is404 && !request.routeOptions.config.public,
      async (request) => {
        request.principal = await authenticator.authenticate(request.headers.authorization);
      },
    ),
  );
}
