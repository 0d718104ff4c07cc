import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/**
 * A hook for `onRequest` or `preHandler` that costs nothing on the requests it does not concern. Fastify waits
 * for an async hook on every request (a promise and a turn of the microtask queue each); this one decides
 * synchronously, and only the requests that `concerns` are handed to `run`. An error `run` throws is the
 * request's error; a reply it sends ends the request, as from an async hook.
 */
export function hookWhen(
  concerns: (request: FastifyRequest) => boolean,
  run: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  return (request, reply, done) => {
    if (!concerns(request)) {
      done();
      return;
    }
    run(request, reply).then(() => done(), done);
  };
}
