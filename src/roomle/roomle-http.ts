import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { answerFor } from '../http/error-handler.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { type RoomleAuthDeps, roomleCredentials } from './roomle-auth.ts';

/** `meta` of a Roomle answer: the server's time (ISO 8601 with milliseconds) and, for lists, the total. */
export function meta(clock: Clock, total?: number) {
  return { serverTime: clock.now().toISOString(), ...(total !== undefined && { total }) };
}

/** `{ <key>: payload, meta }`. */
export function roomleOk<K extends string, T>(clock: Clock, key: K, payload: T, total?: number) {
  return { [key]: payload, meta: meta(clock, total) } as { [P in K]: T } & { meta: ReturnType<typeof meta> };
}

/**
 * Sets up a plugin scope as the Roomle API: every route public to the global bearer hook
 * (this scope resolves its own credentials: user token, apiKey, operator key) and every
 * error answered in Roomle's shape, `{ "error": { code, message, field, status }, "meta" }`.
 */
export function installRoomleScope(scope: HttpApp, deps: RoomleAuthDeps & { clock: Clock }): void {
  scope.decorateRequest('roomle', null);
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true, throttled: true };
  });
  const resolve = roomleCredentials(deps);
  scope.addHook('onRequest', async (request: FastifyRequest) => {
    const who = await resolve(request);
    request.roomle = who;
    request.principal = who.caller.principal;
  });
  scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const answer = answerFor(error, request);
    const first = answer.items[0];
    return reply
      .code(answer.status)
      .headers(answer.headers)
      .type('application/json; charset=utf-8')
      .send({
        error: {
          code: first?.code ?? 'server.internal',
          message: first?.message ?? 'Something went wrong',
          field: first?.parameter ?? '',
          status: answer.status,
          ...(answer.internal && { requestId: request.id }),
        },
        meta: meta(deps.clock),
      });
  });
}
