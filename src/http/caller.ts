import type { FastifyRequest } from 'fastify';
import { actorOf, type Caller } from '../access/principal.ts';
import { principalOf } from './types.ts';

/** The service-layer caller of a request: its principal and its audit actor. */
export function callerOf(request: FastifyRequest): Caller {
  const principal = principalOf(request);
  return { principal, actor: actorOf(principal, request.id) };
}
