import type { FastifyReply } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { sendPage } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import type { IdentityDeps } from '../identity/identity-deps.ts';
import { messagePage, PAGE_POLICY } from '../identity/pages.ts';
import { signInState } from '../identity/sign-in-flow.ts';
import { identityOfMembership } from '../identity/tenant-context.ts';
import { isUuid } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { acceptAuthnRequest, issueSamlResponse, samlPostPage, takePendingRequest } from '../saml/saml-sso.ts';
import { readRedirectAuthnRequest, SamlRequestError } from '../saml/saml-xml.ts';
import { isSessionLive } from '../sessions/session-store.ts';
import { maestranoTime, numberOf } from './maestrano-format.ts';
import { maestranoAssertion, marketplaceAudience, marketplaceIdp, memberFacts, RECHECK_MS } from './maestrano-sso.ts';

type Query = Record<string, string | undefined>;
const PAGE = { config: { public: true, throttled: true }, schema: { hide: true } } as const;
const SSO = '/api/v1/auth/saml';

/**
 * Maestrano single sign-on, Landlord as the hub: `GET /api/v1/auth/saml?SAMLRequest=…[&group_id=cld-…]`
 * (the app's unsigned, deflated AuthnRequest; its Issuer is the app's `api.id`), then the user
 * signs in to Landlord, picks a group if several, and the browser POSTs a signed response with
 * the Maestrano attributes to `sso.idm + sso.consume_path`. `GET /api/v1/auth/saml/{uid}?session=`
 * re-checks a session: valid while the Landlord session lives.
 */
export function registerMaestranoSso(app: HttpApp, db: Db, deps: IdentityDeps & { box: SecretBox }): void {
  const refuse = (reply: FastifyReply, status: number, text: string) =>
    sendPage(reply, status, messagePage('Single sign-on refused', text), PAGE_POLICY);

  app.get<{ Querystring: Query }>(SSO, { ...PAGE, exposeHeadRoute: false }, async (request, reply) => {
    const { SAMLRequest: samlRequest, RelayState: relayState, group_id: groupId } = request.query;
    if (!samlRequest) return refuse(reply, 400, 'The request carries no SAMLRequest.');
    if (relayState && relayState.length > 1024) return refuse(reply, 400, 'RelayState is longer than 1024 characters.');
    if (groupId !== undefined && !numberOf('cld', groupId)) return refuse(reply, 400, 'group_id is not a group uid.');
    try {
      const authn = readRedirectAuthnRequest(samlRequest);
      const marketplace = await db.selectFrom('marketplaces').selectAll().where('api_id', '=', authn.issuer).executeTakeFirst();
      if (!marketplace) return refuse(reply, 400, 'The application that sent this request is not known here.');
      const pendingId = await acceptAuthnRequest(db, deps.clock, marketplaceAudience(marketplace), authn, relayState);
      const query = groupId ? `?${new URLSearchParams({ group_id: groupId })}` : '';
      return reply.redirect(`${SSO}/continue/${pendingId}${query}`, 303);
    } catch (error) {
      if (error instanceof SamlRequestError) return refuse(reply, 400, `${error.message}.`);
      throw error;
    }
  });

  app.get<{ Params: { pending: string }; Querystring: Query }>(`${SSO}/continue/:pending`, PAGE, async (request, reply) => {
    const pending = isUuid(request.params.pending)
      ? await db.selectFrom('saml_requests').select(['marketplace_id']).where('id', '=', request.params.pending).executeTakeFirst()
      : undefined;
    const marketplace = pending?.marketplace_id
      ? await db.selectFrom('marketplaces').selectAll().where('id', '=', pending.marketplace_id).executeTakeFirst()
      : undefined;
    if (!marketplace) return refuse(reply, 404, 'There is no such sign-in request.');
    const product = await db
      .selectFrom('products')
      .select(['id', 'name'])
      .where('id', '=', marketplace.product_id)
      .executeTakeFirstOrThrow();
    const groupNumber = request.query.group_id ? numberOf('cld', request.query.group_id) : undefined;
    const hinted = groupNumber
      ? await db
          .selectFrom('marketplace_groups')
          .innerJoin('tenants', 'tenants.id', 'marketplace_groups.tenant_id')
          .select('tenants.name')
          .where('marketplace_groups.marketplace_id', '=', marketplace.id)
          .where('marketplace_groups.number', '=', groupNumber)
          .executeTakeFirst()
      : undefined;
    // Only this marketplace's groups may be picked (remembered, alone, or in the chooser): the app knows no other tenant.
    const state = await signInState(db, deps, request, product, request.url, hinted?.name, { marketplaceId: marketplace.id });
    if (state.kind === 'redirect') return reply.redirect(state.location, 303);
    if (state.kind === 'no_tenant') return refuse(reply, 403, 'You are signed in, but you belong to no group that is open now.');
    const facts = await memberFacts(db, marketplace.id, state.membershipId);
    const identity = facts && (await identityOfMembership(db, state.membershipId));
    if (!facts || !identity) return refuse(reply, 403, 'The account you chose is not a group of this marketplace.');
    const taken = await takePendingRequest(db, deps.clock, request.params.pending);
    if (!taken)
      return refuse(reply, 400, 'This sign-in request was used already or has expired. Go back to the application and start again.');
    const audience = marketplaceAudience(marketplace);
    const samlResponse = await issueSamlResponse(
      db,
      deps,
      marketplaceIdp(deps.baseUrl(), marketplace),
      audience,
      maestranoAssertion(facts, new URL(deps.baseUrl()).hostname, deps.clock.now()),
      { identity, session: state.session, inResponseTo: taken.request_id },
    );
    const { page, policy } = samlPostPage(audience.acsUrl, samlResponse, taken.relay_state);
    return sendPage(reply, 200, page, policy);
  });

  app.get<{ Params: { uid: string }; Querystring: Query }>(`${SSO}/:uid`, PAGE, async (request, reply) => {
    const now = deps.clock.now();
    const number = numberOf('usr', request.params.uid);
    const session = request.query.session;
    let valid = false;
    if (number && session && isUuid(session) && (await isSessionLive(db, deps.clock, session))) {
      const owner = await db
        .selectFrom('sessions')
        .innerJoin('marketplace_users as mu', (join) => join.on(sql`mu.user_id::text`, '=', sql.ref('sessions.subject_id')))
        .select('mu.number')
        .where('sessions.id', '=', session)
        .where('sessions.kind', '=', 'user')
        .executeTakeFirst();
      valid = owner !== undefined && owner.number === number;
    }
    return reply.header('cache-control', 'no-store').send({ valid, recheck: maestranoTime(new Date(now.getTime() + RECHECK_MS)) });
  });
}
