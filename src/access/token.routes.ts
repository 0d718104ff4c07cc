import formbody from '@fastify/formbody';
import type { ErrorObject } from 'ajv';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError, type ErrorItem, errorItem } from '../errors/app-error.ts';
import { ErrorItemSchema, errors } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import { validationItems } from '../http/validation.ts';
import type { Clock } from '../platform/clock.ts';
import type { KeyRing } from '../platform/signing-keys.ts';
import { issueClientToken } from './clients.service.ts';

/** What the token endpoint and JWKS need. */
export interface TokenDeps {
  keyRing: KeyRing;
  clock: Clock;
}

const tags = ['Access'];
const MAX_PARAMETER_LENGTH = 200;
const JWKS_MAX_AGE_SECONDS = 300;

const TokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: MAX_PARAMETER_LENGTH, description: 'Must be `client_credentials`' })),
    client_id: Type.Optional(Type.String({ maxLength: MAX_PARAMETER_LENGTH, description: 'Or send it in HTTP Basic authentication' })),
    client_secret: Type.Optional(Type.String({ maxLength: MAX_PARAMETER_LENGTH, description: 'Or send it in HTTP Basic authentication' })),
    scope: Type.Optional(Type.String({ maxLength: 1000, description: 'Accepted and ignored: a client token carries its product scope' })),
  },
  // RFC 6749 §3.2: the server MUST ignore request parameters it does not know.
  { additionalProperties: true },
);
type TokenRequestBody = Static<typeof TokenRequest>;

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  data: Type.Object({ accessToken: Type.String(), tokenType: Type.Literal('Bearer'), expiresIn: Type.Integer() }),
  metadata: Type.Object({ success: Type.Boolean(), errors: Type.Array(ErrorItemSchema) }),
});

const OAuthError = Type.Object({
  error: Type.Union([Type.Literal('invalid_client'), Type.Literal('invalid_request'), Type.Literal('unsupported_grant_type')]),
  error_description: Type.String(),
  metadata: Type.Object({ success: Type.Boolean(), errors: Type.Array(ErrorItemSchema) }),
});
type OAuthErrorCode = Static<typeof OAuthError>['error'];

const Jwk = Type.Object({
  kty: Type.String(),
  kid: Type.Optional(Type.String()),
  alg: Type.Optional(Type.String()),
  use: Type.Optional(Type.String()),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String()),
});
const Jwks = Type.Object({ keys: Type.Array(Jwk) });

/**
 * `POST /v1/auth/token` (OAuth 2.0 client credentials, JSON or form body, credentials
 * in the body or HTTP Basic) and `GET /.well-known/jwks.json` (the keys that verify
 * the tokens). The form parser lives in this plugin's scope only: the rest of the API
 * stays JSON-only.
 */
export function registerTokenRoutes(app: HttpApp, db: Db, deps: TokenDeps): void {
  app.register(async (scope) => {
    await scope.register(formbody);
    // Errors raised before the handler (malformed JSON, a NUL character) still answer in OAuth's shape.
    scope.setErrorHandler((error, request, reply) => {
      const oauth = asOAuthFailure(error);
      if (!oauth) throw error;
      return sendOAuthFailure(reply, oauth, usesBasic(request));
    });

    scope.post(
      '/v1/auth/token',
      {
        config: { public: true, throttled: true },
        attachValidation: true,
        schema: {
          tags,
          summary: 'Get an access token (OAuth 2.0 client credentials)',
          description:
            'Send `grant_type=client_credentials` with `client_id` and `client_secret` as a form (`application/x-www-form-urlencoded`) ' +
            'or JSON body, or the credentials in HTTP Basic authentication (RFC 6749 §2.3.1). The answer carries both the OAuth ' +
            'fields and the `{data, metadata}` envelope. Failures answer 400 (401 for a client that used Basic authentication) ' +
            'with the OAuth `error` and the envelope.',
          security: [],
          body: TokenRequest,
          response: { 200: TokenResponse, 400: OAuthError, 401: OAuthError, ...errors(413, 415, 429) },
        },
      },
      async (request, reply) => {
        const basic = usesBasic(request);
        try {
          const credentials = readTokenRequest(request);
          const token = await issueClientToken(db, deps.keyRing, deps.clock, credentials.clientId, credentials.clientSecret);
          noStore(reply);
          return {
            access_token: token.accessToken,
            token_type: token.tokenType,
            expires_in: token.expiresIn,
            data: { accessToken: token.accessToken, tokenType: token.tokenType, expiresIn: token.expiresIn },
            metadata: { success: true, errors: [] as ErrorItem[] },
          };
        } catch (error) {
          const oauth = asOAuthFailure(error);
          if (!oauth) throw error;
          return sendOAuthFailure(reply, oauth, basic);
        }
      },
    );
  });

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'The public keys that verify access tokens (JWKS)',
        security: [],
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      // exportJWK always sets `kty`; jose's type leaves it optional.
      return deps.keyRing.jwks() as Static<typeof Jwks>;
    },
  );
}

/** The client credentials of a token request, checked in RFC 6749's order. */
function readTokenRequest(request: FastifyRequest): { clientId: string; clientSecret: string } {
  const problem = request.validationError as (Error & { validation?: ErrorObject[] }) | undefined;
  if (problem) {
    const [first, ...more] = validationItems(problem.validation ?? [], 'body');
    throw new AppError('request.invalid', { message: first?.message ?? problem.message, parameter: first?.parameter ?? '', more });
  }
  const body = (request.body ?? {}) as TokenRequestBody;
  // RFC 6749 §3.2: a parameter sent without a value counts as omitted.
  const param = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const grantType = param(body.grant_type);
  if (!grantType) throw new AppError('request.invalid', { message: '"grant_type" is required', parameter: 'grant_type' });
  if (grantType !== 'client_credentials') throw new AppError('auth.unsupported_grant_type', { parameter: 'grant_type' });

  const bodyId = param(body.client_id);
  const bodySecret = param(body.client_secret);
  const basic = basicCredentials(request.headers.authorization);
  if (basic) {
    // RFC 6749 §2.3: one authentication method per request. A matching client_id in the body is harmless.
    if (bodySecret !== undefined || (bodyId !== undefined && bodyId !== basic.clientId)) {
      throw new AppError('request.invalid', {
        message: 'Send the client credentials either in the Authorization header or in the body, not both',
        parameter: bodySecret !== undefined ? 'client_secret' : 'client_id',
      });
    }
    return basic;
  }
  if (bodyId === undefined && bodySecret === undefined) {
    throw new AppError('auth.invalid_client', {
      message: 'No client authentication: send client_id and client_secret, or HTTP Basic authentication',
    });
  }
  if (bodyId === undefined) throw new AppError('request.invalid', { message: '"client_id" is required', parameter: 'client_id' });
  if (bodySecret === undefined)
    throw new AppError('request.invalid', { message: '"client_secret" is required', parameter: 'client_secret' });
  return { clientId: bodyId, clientSecret: bodySecret };
}

function usesBasic(request: FastifyRequest): boolean {
  return /^Basic\b/i.test(request.headers.authorization ?? '');
}

/** HTTP Basic credentials; per RFC 6749 §2.3.1 each part is form-urlencoded before encoding. */
function basicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (authorization === undefined) return undefined;
  const malformed = () =>
    new AppError('request.invalid', {
      message: 'The Authorization header must be "Basic base64(client_id:client_secret)"',
      parameter: 'Authorization',
    });
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
  if (!match?.[1]) throw malformed();
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformed();
  try {
    const formDecode = (part: string) => decodeURIComponent(part.replaceAll('+', ' '));
    const clientId = formDecode(decoded.slice(0, colon));
    const clientSecret = formDecode(decoded.slice(colon + 1));
    if (!clientId || !clientSecret) throw malformed();
    return { clientId, clientSecret };
  } catch {
    throw malformed();
  }
}

interface OAuthFailure {
  error: OAuthErrorCode;
  items: ErrorItem[];
}

/** The OAuth error a failure maps to; undefined for failures OAuth has no word for (415, 429, 5xx). */
function asOAuthFailure(error: unknown): OAuthFailure | undefined {
  if (error instanceof AppError) {
    if (error.code === 'auth.invalid_client') return { error: 'invalid_client', items: error.items };
    if (error.code === 'auth.unsupported_grant_type') return { error: 'unsupported_grant_type', items: error.items };
    if (error.status === 400) return { error: 'invalid_request', items: error.items };
    return undefined;
  }
  const fault = error as { statusCode?: number; code?: string; message?: string };
  if (fault.statusCode !== 400) return undefined;
  const malformedJson =
    fault.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fault.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError;
  return {
    error: 'invalid_request',
    items: [malformedJson ? errorItem('request.malformed_json') : errorItem('request.invalid', fault.message)],
  };
}

function sendOAuthFailure(reply: FastifyReply, failure: OAuthFailure, basic: boolean) {
  noStore(reply);
  // RFC 6749 §5.2: a client that authenticated with the Authorization header is answered 401 with a challenge.
  const status = failure.error === 'invalid_client' && basic ? 401 : 400;
  if (status === 401) reply.header('www-authenticate', 'Basic realm="landlord", charset="UTF-8"');
  return reply.code(status).send({
    error: failure.error,
    error_description: failure.items[0]?.message ?? '',
    metadata: { success: false, errors: failure.items },
  });
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
