import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Principal } from '../access/principal.ts';
import { AppError } from '../errors/app-error.ts';

/** The Fastify instance routes are registered on, typed by TypeBox schemas. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by the auth hook on every non-public route. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route needs no credential (health checks, token endpoint, docs). */
    public?: boolean;
    /** A public route that is still rate limited (it takes secrets, e.g. a token endpoint). */
    throttled?: boolean;
  }
}

/** The authenticated caller of a request (every non-public route has one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('auth.missing_credential');
  return request.principal;
}
