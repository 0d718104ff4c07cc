import type { FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { API_AUDIENCE, type Authenticator } from '../access/authenticator.ts';
import type { Caller, Principal } from '../access/principal.ts';
import type { ConnectionVerifier } from '../connections/verifier.ts';
import { AppError } from '../errors/app-error.ts';
import { type TenantAccess, verifyTenantAccessToken } from '../oidc/access-tokens.ts';
import type { Clock } from '../platform/clock.ts';
import type { KeyRing } from '../platform/signing-keys.ts';

/** Roomle's rights, as the product's permissions name them. */
export const ROOMLE_RIGHTS = ['tenant_management', 'user_management', 'tenant_payment', 'tenant_statistics'] as const;
/** One of Roomle's rights. */
export type RoomleRight = (typeof ROOMLE_RIGHTS)[number];

/**
 * Who calls the Roomle API: an operator (Roomle's "super admin": every right, in its
 * products), a tenant user signed in through Landlord (the rights their membership held
 * when the token was issued, in the token's tenant), or a tenant's API connection (its
 * own permissions, in its tenant). `caller` is what the native services are called with
 * once the adapter has checked the tenant and the right: the product's authority, with
 * the real actor in the audit record.
 */
export interface RoomleCaller {
  via: 'operator' | 'user' | 'connection';
  /** The one product the caller acts in; null for a super admin. */
  productId: string | null;
  /** The product's name a user token was issued for. */
  productName?: string;
  /** The caller's current tenant (Landlord id); absent for operators. */
  tenantId?: string;
  /** An operator able to create tenants (Roomle's "must be super admin"). */
  superAdmin: boolean;
  rights: ReadonlySet<string>;
  caller: Caller;
}

/** What resolving a Roomle credential needs. */
export interface RoomleAuthDeps {
  authenticator: Authenticator;
  verifier: ConnectionVerifier;
  keyRing: KeyRing;
  /** The OpenID Connect issuer (Landlord's public URL): user tokens name it. */
  issuer: () => string;
  clock: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Roomle API's caller; set by its hook on every `/v2/tenants` route. */
    roomle: RoomleCaller | null;
  }
}

/** The caller of a Roomle route (its hook set it). */
export function roomleCallerOf(request: FastifyRequest): RoomleCaller {
  if (!request.roomle) throw new AppError('auth.missing_credential');
  return request.roomle;
}

/** Splits an `apiKey` (`<connection id>.<secret>`, as the tenant object shows it). */
export function parseApiKey(apiKey: string): { id: string; secret: string } {
  const dot = apiKey.indexOf('.');
  if (dot < 1) throw new AppError('auth.invalid_credential', { message: 'The apiKey is not one Landlord issued' });
  return { id: apiKey.slice(0, dot), secret: apiKey.slice(dot + 1) };
}

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

function delegate(kind: Principal['kind'], id: string, productId: string, name: string, requestId: string): Caller {
  // The adapter checked tenant and right; the native services then act with the product's authority.
  const principal: Principal = { kind, id, role: 'product_admin', productId, name };
  return { principal, actor: { type: kind, id, requestId } };
}

// Verified user tokens, so a client's every request does not pay for the signature again. An entry
// lives until the token expires or for 60 s (a retired signing key stops verifying within that), and the
// map is emptied when it holds 10,000 (a bound, not an LRU: a refill costs one verification each).
const VERIFIED_TTL_MS = 60_000;
const MAX_VERIFIED = 10_000;
type Verified = Map<string, { access: TenantAccess; productName: string; until: number }>;

async function verifyUserToken(
  deps: RoomleAuthDeps,
  verified: Verified,
  token: string,
): Promise<{ access: TenantAccess; productName: string }> {
  const now = deps.clock.now().getTime();
  const hit = verified.get(token);
  if (hit && hit.until > now) return hit;
  let audience: unknown;
  try {
    audience = decodeJwt(token).aud;
  } catch {
    throw new AppError('access_token.invalid');
  }
  // The audience only picks which product to verify against; verification checks it again.
  const productName = Array.isArray(audience) ? audience[0] : audience;
  if (typeof productName !== 'string') throw new AppError('access_token.invalid');
  const access = await verifyTenantAccessToken(deps.keyRing, deps.issuer(), productName, token);
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(token, { access, productName, until: Math.min(access.expiresAt.getTime(), now + VERIFIED_TTL_MS) });
  return { access, productName };
}

async function userCaller(deps: RoomleAuthDeps, verified: Verified, token: string, requestId: string): Promise<RoomleCaller> {
  const { access, productName } = await verifyUserToken(deps, verified, token);
  // The product's id is not in the token: routes compare the tenant's product name with `productName`.
  return {
    via: 'user',
    productId: null,
    productName,
    tenantId: access.tenant.id,
    superAdmin: false,
    rights: new Set(access.permissions),
    caller: {
      principal: { kind: 'user', id: access.userId, role: 'tenant', productId: null, name: access.tenant.login },
      actor: { type: 'user', id: access.userId, requestId },
    },
  };
}

async function connectionCaller(deps: RoomleAuthDeps, apiKey: string, requestId: string): Promise<RoomleCaller> {
  const { id, secret } = parseApiKey(apiKey);
  const result = await deps.verifier.verify(id, secret, null);
  if (!result.valid) throw new AppError('auth.invalid_credential', { message: 'Unknown or revoked apiKey, or its tenant is not live' });
  return {
    via: 'connection',
    productId: result.productId,
    tenantId: result.tenant.id,
    superAdmin: false,
    rights: new Set(result.permissions),
    caller: delegate('connection', result.connection.id, result.productId, result.connection.name, requestId),
  };
}

/**
 * The Roomle API's credential check, with its own cache of verified user tokens. It
 * resolves `Authorization: Bearer <user access token>` or `token: <user access token>`;
 * `Authorization: Bearer <operator key or client token>`; `apiKey: <tenant API key>`
 * alone (the connection acts with its own permissions). With both `apiKey` and `token`,
 * the key must be of the token's tenant.
 */
export function roomleCredentials(deps: RoomleAuthDeps): (request: FastifyRequest) => Promise<RoomleCaller> {
  const verified: Verified = new Map();
  return (request) => resolveRoomleCaller(deps, verified, request);
}

async function resolveRoomleCaller(deps: RoomleAuthDeps, verified: Verified, request: FastifyRequest): Promise<RoomleCaller> {
  const header = request.headers.authorization;
  const tokenHeader = typeof request.headers.token === 'string' ? request.headers.token.trim() : '';
  const apiKey = typeof request.headers.apikey === 'string' ? request.headers.apikey.trim() : '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  const userToken = tokenHeader || (bearer && (verified.has(bearer) || (JWT.test(bearer) && !isApiToken(bearer))) ? bearer : '');
  if (userToken) {
    const user = await userCaller(deps, verified, userToken, request.id);
    if (apiKey) {
      const connection = await connectionCaller(deps, apiKey, request.id);
      if (connection.tenantId !== user.tenantId)
        throw new AppError('auth.invalid_credential', {
          message: 'The apiKey and the token are of different tenants',
          parameter: 'apiKey',
        });
    }
    return user;
  }
  if (header) {
    const principal = await deps.authenticator.authenticate(header);
    if (principal.role !== 'super_admin' && principal.role !== 'product_admin') {
      throw new AppError('auth.forbidden', { message: 'The Roomle API takes an operator key, a user token or a tenant apiKey' });
    }
    return {
      via: 'operator',
      productId: principal.productId,
      superAdmin: true,
      rights: new Set(ROOMLE_RIGHTS),
      caller: { principal, actor: { type: principal.kind, id: principal.id, requestId: request.id } },
    };
  }
  if (apiKey) return connectionCaller(deps, apiKey, request.id);
  throw new AppError('auth.missing_credential', {
    message: 'Send a user token (Authorization: Bearer <token> or the token header), an apiKey, or an operator key',
  });
}

function isApiToken(token: string): boolean {
  try {
    const audience = decodeJwt(token).aud;
    return audience === API_AUDIENCE || (Array.isArray(audience) && audience.includes(API_AUDIENCE));
  } catch {
    return false;
  }
}

/** The native caller for a Roomle caller acting in a tenant of `productId` (users learn their product id here). */
export function nativeCaller(who: RoomleCaller, productId: string): Caller {
  if (who.via !== 'user') return who.caller;
  const { principal, actor } = who.caller;
  return { principal: { ...principal, role: 'product_admin', productId }, actor };
}
