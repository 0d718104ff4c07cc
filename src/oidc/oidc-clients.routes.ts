import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { PageQuery } from '../http/pagination.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { createOidcClient, getOidcClient, listOidcClients, revokeOidcClient, toOidcClientView } from './oidc-clients.service.ts';

const tags = ['OpenID Connect'];
const ProductParams = Type.Object({ product: Type.String({ minLength: 1, maxLength: 200, description: 'Product id or system name' }) });
const ClientParams = Type.Object({
  ...ProductParams.properties,
  clientId: Type.String({ minLength: 1, maxLength: 200, description: 'The `client_id`' }),
});
const Uri = Type.String({ minLength: 1, maxLength: 2000 });
const IdTokenSigningAlg = Type.Union([Type.Literal('RS256'), Type.Literal('ES256'), Type.Literal('EdDSA')], {
  description:
    'What the client’s ID tokens are signed with (`id_token_signed_response_alg`). `RS256`, the default, is the one every relying party accepts; `ES256` and `EdDSA` cost a tenth of its CPU per token, for relying parties that verify them.',
});

const OidcClient = Type.Object({
  id: Type.String(),
  clientId: Type.String({ description: 'The OAuth `client_id`' }),
  product: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
  tokenEndpointAuthMethod: Type.String({ description: '`client_secret_basic` (confidential) or `none` (public)' }),
  pkceRequired: Type.Boolean({ description: 'Public clients must use PKCE (S256)' }),
  redirectUris: Type.Array(Type.String()),
  postLogoutRedirectUris: Type.Array(Type.String()),
  idTokenSigningAlg: IdTokenSigningAlg,
  revoked: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
const OidcClientWithSecret = Type.Object({
  ...OidcClient.properties,
  clientSecret: Type.Optional(Type.String({ description: 'Confidential clients only; shown in this answer only, stored as a hash' })),
});
const OidcClientCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Union([Type.Literal('confidential'), Type.Literal('public')], {
      description: '`confidential`: a server that keeps a secret; `public`: a browser or native app (PKCE required)',
    }),
    redirectUris: Type.Array(Uri, { minItems: 1, maxItems: 20, description: 'Matched exactly' }),
    postLogoutRedirectUris: Type.Optional(Type.Array(Uri, { maxItems: 20, description: 'Where RP-initiated logout may return to' })),
    idTokenSigningAlg: Type.Optional(IdTokenSigningAlg),
  },
  { additionalProperties: false },
);
const WHO = 'Operators and the product’s own clients; another product’s credential gets 404.';

/** `/v1/products/{product}/oidc-clients`: the relying parties a product signs its users in to. */
export function registerOidcClientRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/products/:product/oidc-clients',
    {
      schema: {
        tags,
        summary: 'Register an OIDC client',
        description: `${WHO} Authorization code flow (PKCE for public clients), refresh tokens, RP-initiated logout. The answer is the only one that shows \`clientSecret\`.`,
        params: ProductParams,
        body: OidcClientCreate,
        response: { 201: envelope(OidcClientWithSecret), ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createOidcClient(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).header('cache-control', 'no-store').send(ok(view));
    },
  );

  app.get(
    '/v1/products/:product/oidc-clients',
    {
      schema: {
        tags,
        summary: 'List a product’s OIDC clients',
        description: WHO,
        params: ProductParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(OidcClient), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listOidcClients(db, callerOf(request), request.params.product, request.query.cursor, limit);
      return okPage(page.items.map(toOidcClientView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/oidc-clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Get an OIDC client',
        description: WHO,
        params: ClientParams,
        response: { 200: envelope(OidcClient), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(toOidcClientView(await getOidcClient(db, callerOf(request), request.params.product, request.params.clientId))),
  );

  app.delete(
    '/v1/products/:product/oidc-clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Revoke an OIDC client',
        description: `${WHO} The client can no longer sign anyone in; its refresh tokens stop working.`,
        params: ClientParams,
        response: { 200: envelope(OidcClient), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(
        await db
          .transaction()
          .execute((tx) => revokeOidcClient(tx, deps.clock, callerOf(request), request.params.product, request.params.clientId)),
      ),
  );
}
