import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import type { ProductRow } from '../db/schema.ts';
import { sendPage } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import type { IdentityDeps } from '../identity/identity-deps.ts';
import { messagePage, PAGE_POLICY } from '../identity/pages.ts';
import { signInState } from '../identity/sign-in-flow.ts';
import { identityOfMembership } from '../identity/tenant-context.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { findProduct } from '../products/products.repo.ts';
import { publishedCertificates, signingCertificate } from './certificates.ts';
import { productCertificateOwner, type SamlProviderRow } from './saml-providers.service.ts';
import {
  acceptAuthnRequest,
  issueSamlResponse,
  productAssertionBuilder,
  type SamlIdp,
  samlPostPage,
  takePendingRequest,
} from './saml-sso.ts';
import { buildIdpMetadata, readRedirectAuthnRequest, SamlRequestError } from './saml-xml.ts';

/** The SAML identity provider of a product: its entity id is its metadata URL. */
export function productIdp(baseUrl: string, product: { id: string; name: string }): SamlIdp {
  return {
    entityId: `${baseUrl}/saml/${product.name}/metadata`,
    certificateOwner: productCertificateOwner(product.id),
    certificateName: `${product.name} SAML IdP`,
  };
}

type Query = Record<string, string | undefined>;
const PAGE = { config: { public: true, throttled: true }, schema: { hide: true } } as const;

/**
 * The browser side of each product's SAML identity provider: `GET /saml/{product}/metadata`,
 * `GET /saml/{product}/sso` (SP-initiated, HTTP-Redirect binding), `GET /saml/{product}/init`
 * (IdP-initiated) and `GET /saml/{product}/continue/{pending}` (after sign-in). An unknown SP,
 * a foreign ACS URL, a malformed, stale or replayed request gets a plain error page, never an assertion.
 */
export function registerSamlRoutes(app: HttpApp, db: Db, deps: IdentityDeps & { box: SecretBox }): void {
  const refuse = (reply: FastifyReply, status: number, text: string, productName?: string) =>
    sendPage(reply, status, messagePage('Single sign-on refused', text, productName), PAGE_POLICY);
  const productOf = async (reply: FastifyReply, name: string) => {
    const product = await findProduct(db, name);
    if (!product) refuse(reply, 404, 'There is no such product here.');
    return product;
  };
  const providerBy = (productId: string, column: 'entity_id' | 'id', value: string) =>
    db.selectFrom('saml_providers').selectAll().where('product_id', '=', productId).where(column, '=', value).executeTakeFirst();

  /** Signs the user in (or sends them to sign in first) and answers with the auto-POST form. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    product: ProductRow,
    provider: SamlProviderRow,
    returnTo: string,
    pending?: { id: string },
  ) => {
    const state = await signInState(db, deps, request, product, returnTo, (request.query as Query).tenant);
    if (state.kind === 'redirect') return reply.redirect(state.location, 303);
    if (state.kind === 'no_tenant')
      return refuse(
        reply,
        403,
        `You are signed in, but you have no account of ${product.display_name} that is open now.`,
        product.display_name,
      );
    const identity = await identityOfMembership(db, state.membershipId);
    if (!identity) return refuse(reply, 409, 'Your account is not available right now.', product.display_name);
    let inResponseTo: string | undefined;
    let relayState = (request.query as Query).RelayState;
    if (pending) {
      const taken = await takePendingRequest(db, deps.clock, pending.id, provider.id);
      if (!taken)
        return refuse(
          reply,
          400,
          'This sign-in request was used already or has expired. Go back to the application and start again.',
          product.display_name,
        );
      inResponseTo = taken.request_id;
      relayState = taken.relay_state ?? undefined;
    }
    const samlResponse = await issueSamlResponse(
      db,
      deps,
      productIdp(deps.baseUrl(), product),
      { id: provider.id, entityId: provider.entity_id, acsUrl: provider.acs_url, signResponse: provider.sign_response },
      productAssertionBuilder(provider.name_id_format, provider.attribute_mapping),
      { identity, session: state.session, inResponseTo },
    );
    const { page, policy } = samlPostPage(provider.acs_url, samlResponse, relayState);
    return sendPage(reply, 200, page, policy);
  };

  app.get<{ Params: { product: string } }>('/saml/:product/metadata', PAGE, async (request, reply) => {
    const product = await productOf(reply, request.params.product);
    if (!product) return reply;
    const idp = productIdp(deps.baseUrl(), product);
    await signingCertificate(db, deps.box, deps.clock, idp.certificateOwner, idp.certificateName);
    const certificates = await publishedCertificates(db, deps.clock, idp.certificateOwner);
    const xml = buildIdpMetadata({
      entityId: idp.entityId,
      ssoUrl: `${deps.baseUrl()}/saml/${product.name}/sso`,
      certificates: certificates.map((one) => one.certificatePem),
    });
    return reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'max-age=300').send(xml);
  });

  app.get<{ Params: { product: string }; Querystring: Query }>(
    '/saml/:product/sso',
    { ...PAGE, exposeHeadRoute: false },
    async (request, reply) => {
      const product = await productOf(reply, request.params.product);
      if (!product) return reply;
      const { SAMLRequest: samlRequest, RelayState: relayState } = request.query;
      if (!samlRequest) return refuse(reply, 400, 'The request carries no SAMLRequest.', product.display_name);
      if (relayState && relayState.length > 1024)
        return refuse(reply, 400, 'RelayState is longer than 1024 characters.', product.display_name);
      try {
        const authn = readRedirectAuthnRequest(samlRequest);
        const provider = await providerBy(product.id, 'entity_id', authn.issuer);
        if (!provider) return refuse(reply, 400, 'The service provider that sent this request is not registered.', product.display_name);
        const pendingId = await acceptAuthnRequest(
          db,
          deps.clock,
          { id: provider.id, entityId: provider.entity_id, acsUrl: provider.acs_url, signResponse: provider.sign_response },
          authn,
          relayState,
        );
        return reply.redirect(`/saml/${product.name}/continue/${pendingId}`, 303);
      } catch (error) {
        if (error instanceof SamlRequestError) return refuse(reply, 400, `${error.message}.`, product.display_name);
        throw error;
      }
    },
  );

  app.get<{ Params: { product: string; pending: string }; Querystring: Query }>(
    '/saml/:product/continue/:pending',
    PAGE,
    async (request, reply) => {
      const product = await productOf(reply, request.params.product);
      if (!product) return reply;
      const pending = /^[0-9a-f-]{36}$/.test(request.params.pending)
        ? await db.selectFrom('saml_requests').select(['provider_id']).where('id', '=', request.params.pending).executeTakeFirst()
        : undefined;
      const provider = pending?.provider_id && (await providerBy(product.id, 'id', pending.provider_id));
      if (!provider) return refuse(reply, 404, 'There is no such sign-in request.', product.display_name);
      return answer(request, reply, product, provider, `/saml/${product.name}/continue/${request.params.pending}`, {
        id: request.params.pending,
      });
    },
  );

  app.get<{ Params: { product: string }; Querystring: Query }>(
    '/saml/:product/init',
    { ...PAGE, exposeHeadRoute: false },
    async (request, reply) => {
      const product = await productOf(reply, request.params.product);
      if (!product) return reply;
      const provider = request.query.sp ? await providerBy(product.id, 'entity_id', request.query.sp) : undefined;
      if (!provider) return refuse(reply, 400, 'Name a registered service provider (sp=<entity id>).', product.display_name);
      return answer(request, reply, product, provider, request.url);
    },
  );
}
