import { AppError } from '../errors/app-error.ts';
import type { KeyRing } from '../platform/signing-keys.ts';

/** What a tenant user's access token for a product says: who, in which tenant, allowed what. */
export interface TenantAccess {
  /** The user id (`sub`). */
  userId: string;
  /** The OIDC client the token was issued to. */
  clientId: string;
  scope: string;
  tenant: { id: string; name: string; displayName: string; login: string; roles: string[] };
  permissions: string[];
  expiresAt: Date;
}

/**
 * Verifies, locally (keys from the ring, no database), an OIDC access token issued for
 * `productName` — the JWT Landlord's provider issues for the product's resource
 * (`resource=urn:landlord:product:<name>`) — and returns the user, tenant and permissions
 * it carries. Anything else (another product's token, an ID token, an expired or altered
 * one, one without the tenant claim) is 401 `access_token.invalid`. For a product's routes
 * that take `Authorization: Bearer <access token>` (the Roomle API does).
 */
export async function verifyTenantAccessToken(keyRing: KeyRing, issuer: string, productName: string, token: string): Promise<TenantAccess> {
  let claims: Awaited<ReturnType<KeyRing['verifyIssued']>>;
  try {
    claims = await keyRing.verifyIssued(token, { issuer, audience: productName, typ: 'at+jwt' });
  } catch {
    throw new AppError('access_token.invalid');
  }
  const tenant = claims.tenant as
    | { id?: unknown; name?: unknown; display_name?: unknown; login?: unknown; roles?: unknown; permissions?: unknown }
    | undefined;
  const strings = (value: unknown) =>
    Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  const roles = strings(tenant?.roles);
  const permissions = strings(tenant?.permissions);
  if (
    typeof claims.sub !== 'string' ||
    typeof tenant?.id !== 'string' ||
    typeof tenant.name !== 'string' ||
    typeof tenant.login !== 'string' ||
    !roles ||
    !permissions
  ) {
    throw new AppError('access_token.invalid', { message: 'The access token carries no tenant' });
  }
  return {
    userId: claims.sub,
    clientId: String(claims.client_id ?? ''),
    scope: String(claims.scope ?? ''),
    tenant: { id: tenant.id, name: tenant.name, displayName: String(tenant.display_name ?? tenant.name), login: tenant.login, roles },
    permissions,
    expiresAt: new Date((claims.exp ?? 0) * 1000),
  };
}

/** The bearer token of an `Authorization` header, or a 401. */
export function bearerTokenOf(authorization: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw new AppError('auth.missing_credential', { message: 'Send the access token: Authorization: Bearer <token>' });
  return match[1];
}
