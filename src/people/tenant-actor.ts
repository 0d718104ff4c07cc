import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../access/authenticator.ts';
import type { Principal } from '../access/principal.ts';
import type { ConnectionVerifier } from '../connections/verifier.ts';
import { AppError } from '../errors/app-error.ts';

const REFUSED: Record<string, string> = {
  unknown: 'Unknown connection id or wrong secret',
  inactive: 'The connection is deactivated',
  tenant_not_live: 'The connection’s tenant is not live (created or active)',
};

/**
 * The principal of a tenant-level actor: an API connection presenting
 * `Authorization: Basic base64(<connection id>:<secret>)`. It is confined to the
 * connection's tenant (`tenantId`) and may do only what its permissions allow; the
 * routes that accept it check both.
 */
export async function connectionPrincipal(verifier: ConnectionVerifier, authorization: string): Promise<Principal> {
  const decoded = Buffer.from(authorization.replace(/^Basic\s+/i, '').trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new AppError('auth.invalid_credential', { message: 'Basic credentials must be "<connection id>:<secret>"' });
  const result = await verifier.verify(decoded.slice(0, colon), decoded.slice(colon + 1), null);
  if (!result.valid) throw new AppError('auth.invalid_credential', { message: REFUSED[result.reason] });
  return {
    kind: 'connection',
    id: result.connection.id,
    role: 'tenant',
    productId: result.productId,
    tenantId: result.tenant.id,
    name: result.connection.name,
  };
}

/**
 * An `onRequest` hook for the routes a tenant-level actor may use: HTTP Basic with a
 * connection credential, or any bearer credential the rest of the API accepts. The
 * routes are marked public so the global bearer hook leaves them to this one; no other
 * route ever sees a connection principal.
 */
export function tenantActorHook(authenticator: Authenticator, verifier: ConnectionVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    request.principal =
      header && /^Basic\s/i.test(header) ? await connectionPrincipal(verifier, header) : await authenticator.authenticate(header);
  };
}
