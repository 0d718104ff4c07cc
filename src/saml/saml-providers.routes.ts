import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { PageQuery } from '../http/pagination.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import {
  createSamlProvider,
  deleteSamlProvider,
  getSamlProvider,
  listProductCertificates,
  listSamlProviders,
  rotateProductCertificate,
  toSamlProviderView,
} from './saml-providers.service.ts';
import { ATTRIBUTE_SOURCES } from './saml-sso.ts';

const tags = ['SAML'];
const ProductParams = Type.Object({ product: Type.String({ minLength: 1, maxLength: 200, description: 'Product id or system name' }) });
const ProviderParams = Type.Object({
  ...ProductParams.properties,
  provider: Type.String({ minLength: 1, maxLength: 1024, description: 'Provider id or entity id' }),
});
const NameIdFormat = Type.Union([Type.Literal('persistent'), Type.Literal('emailAddress'), Type.Literal('unspecified')], {
  description: '`persistent` (default): the user id, stable and opaque; `emailAddress`: the e-mail',
});
const SamlProvider = Type.Object({
  id: Type.String(),
  entityId: Type.String(),
  acsUrl: Type.String(),
  nameIdFormat: NameIdFormat,
  attributeMapping: Type.Record(Type.String(), Type.String()),
  signResponse: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
const SamlProviderCreate = Type.Object(
  {
    entityId: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'The SP’s entity id: the Issuer of its AuthnRequests and the Audience of assertions',
    }),
    acsUrl: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'Assertion Consumer Service URL (HTTP-POST); a request naming another is refused',
    }),
    nameIdFormat: Type.Optional(NameIdFormat),
    attributeMapping: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' }), Type.String(), {
        description: `SAML attribute name → source, beside the default attributes. Sources: ${Object.keys(ATTRIBUTE_SOURCES).join(', ')}`,
      }),
    ),
    signResponse: Type.Optional(Type.Boolean({ description: 'Also sign the Response (the Assertion is always signed)' })),
  },
  { additionalProperties: false },
);
const Certificate = Type.Object({
  id: Type.String(),
  certificate: Type.String({ description: 'PEM' }),
  sha1Fingerprint: Type.String({ description: 'SHA-1 over the DER, `AA:BB:…` (Maestrano’s `x509_fingerprint`)' }),
  sha256Fingerprint: Type.String(),
  notAfter: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  signing: Type.Boolean({
    description: 'The certificate that signs now; the others were rotated out within 7 days and are still in metadata',
  }),
  retiredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const WHO = 'Operators and the product’s own clients; another product’s credential gets 404.';

/** `/v1/products/{product}/saml-providers` and `/v1/products/{product}/saml-certificates`. */
export function registerSamlProviderRoutes(app: HttpApp, db: Db, deps: { clock: Clock; box: SecretBox }): void {
  app.post(
    '/v1/products/:product/saml-providers',
    {
      schema: {
        tags,
        summary: 'Register a SAML service provider',
        description: `${WHO} Its users sign in at \`/saml/{product}/sso\` (SP-initiated, HTTP-Redirect) or \`/saml/{product}/init?sp=<entityId>\` (IdP-initiated); the IdP metadata is at \`/saml/{product}/metadata\`.`,
        params: ProductParams,
        body: SamlProviderCreate,
        response: { 201: envelope(SamlProvider), ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createSamlProvider(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(view));
    },
  );

  app.get(
    '/v1/products/:product/saml-providers',
    {
      schema: {
        tags,
        summary: 'List a product’s SAML service providers',
        description: WHO,
        params: ProductParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(SamlProvider), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listSamlProviders(db, callerOf(request), request.params.product, request.query.cursor, limit);
      return okPage(page.items.map(toSamlProviderView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/saml-providers/:provider',
    {
      schema: {
        tags,
        summary: 'Get a SAML service provider',
        description: WHO,
        params: ProviderParams,
        response: { 200: envelope(SamlProvider), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(toSamlProviderView(await getSamlProvider(db, callerOf(request), request.params.product, request.params.provider))),
  );

  app.delete(
    '/v1/products/:product/saml-providers/:provider',
    {
      schema: {
        tags,
        summary: 'Remove a SAML service provider',
        description: WHO,
        params: ProviderParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(
        await db.transaction().execute((tx) => deleteSamlProvider(tx, callerOf(request), request.params.product, request.params.provider)),
      ),
  );

  app.get(
    '/v1/products/:product/saml-certificates',
    {
      schema: {
        tags,
        summary: 'The product’s SAML signing certificates',
        description: `${WHO} The first is the one that signs (generated on first use), with the fingerprints SPs pin.`,
        params: ProductParams,
        response: { 200: envelope(Type.Array(Certificate)), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await listProductCertificates(db, deps, callerOf(request), request.params.product)),
  );

  app.post(
    '/v1/products/:product/saml-certificates/rotate',
    {
      schema: {
        tags,
        summary: 'Rotate the product’s SAML signing certificate',
        description:
          'Operators. A new certificate signs at once; the previous one stays in the metadata for 7 days. SPs that pin a fingerprint must be told the new one.',
        params: ProductParams,
        response: { 200: envelope(Type.Array(Certificate)), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(await db.transaction().execute((tx) => rotateProductCertificate(tx, deps, callerOf(request), request.params.product))),
  );
}
