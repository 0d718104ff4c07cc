import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../access/authenticator.ts';
import { canSeeProduct, type Principal } from '../access/principal.ts';
import type { ConnectionVerifier } from '../connections/verifier.ts';
import { AppError } from '../errors/app-error.ts';

/** The permissions (Roomle's rights) that let a tenant's own API connection read its usage and entitlements. */
export const USAGE_READ_PERMISSIONS = ['tenant_statistics', 'tenant_payment'] as const;

/**
 * An `onRequest` hook for the usage reads a tenant may make about itself: HTTP Basic with
 * an API connection credential holding `tenant_statistics` or `tenant_payment` (403
 * without), or any bearer credential the rest of the API accepts. The routes are marked
 * public so the global bearer hook leaves them to this one.
 */
export function usageReaderHook(authenticator: Authenticator, verifier: ConnectionVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (!header || !/^Basic\s/i.test(header)) {
      request.principal = await authenticator.authenticate(header);
      return;
    }
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, '').trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AppError('auth.invalid_credential', { message: 'Basic credentials must be "<connection id>:<secret>"' });
    const result = await verifier.verify(decoded.slice(0, colon), decoded.slice(colon + 1), null);
    if (!result.valid) throw new AppError('auth.invalid_credential');
    if (!result.permissions.some((permission) => (USAGE_READ_PERMISSIONS as readonly string[]).includes(permission))) {
      throw new AppError('auth.forbidden', {
        message: `Reading usage needs ${USAGE_READ_PERMISSIONS.join(' or ')}, which this connection does not hold`,
      });
    }
    request.principal = {
      kind: 'connection',
      id: result.connection.id,
      role: 'tenant',
      productId: result.productId,
      tenantId: result.tenant.id,
      name: result.connection.name,
    };
  };
}

/**
 * True when the principal may read this tenant's usage: an operator or client of its
 * product, or the tenant's own connection. Anything else answers 404, as if the tenant
 * did not exist.
 */
export function mayReadTenantUsage(principal: Principal, tenant: { id: string; productId: string }): boolean {
  if (!canSeeProduct(principal, tenant.productId)) return false;
  if (principal.role === 'tenant') return principal.tenantId === tenant.id;
  return principal.role === 'super_admin' || principal.role === 'product_admin' || principal.role === 'client';
}
