import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Db } from '../db/database.ts';
import { sendPage } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import { messagePage, PAGE_POLICY } from '../identity/pages.ts';
import { signInState } from '../identity/sign-in-flow.ts';
import { findOidcClientByClientId } from './oidc-clients.repo.ts';
import type { OidcDeps } from './provider.ts';
import { recordGrantTenant } from './tenant-grants.ts';

/** The provider of this node, built on first use for the public URL and rebuilt when the signing keys rotate. */
export interface OidcHost {
  provider(): Promise<Provider>;
  /** The provider's request handler (its Koa callback, composed once per provider). */
  handler(): Promise<(request: IncomingMessage, response: ServerResponse) => Promise<void>>;
}

/** Creates the node's {@link OidcHost}: the issuer is Landlord's public URL (or the address it listens on). */
export function createOidcHost(db: Db, deps: OidcDeps): OidcHost {
  let current: Promise<{ provider: Provider; handler: ReturnType<Provider['callback']> }> | undefined;
  deps.keyRing.onReload(() => {
    current = undefined;
  });
  const built = () => {
    // Loaded on first use: oidc-provider and Koa are a module graph start-up does not need.
    current ??= import('./provider.ts')
      .then(({ buildProvider }) => buildProvider(db, deps, deps.baseUrl()))
      .then((provider) => ({ provider, handler: provider.callback() }))
      .catch((error) => {
        current = undefined;
        throw error;
      });
    return current;
  };
  return {
    provider: async () => (await built()).provider,
    handler: async () => (await built()).handler as unknown as (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  };
}

const AMR: Record<string, string> = { password: 'pwd', login_link: 'otp', password_link: 'otp' };

/**
 * Mounts the OpenID Connect provider (a Koa app) inside Fastify: discovery at
 * `/.well-known/openid-configuration`, the endpoints under `/oidc/`, and Landlord's
 * interaction at `/interaction/{uid}`. The provider's routes have no body parser of
 * Fastify's (the provider reads the request itself) and answer in OAuth's shapes; every
 * other route keeps the `{data, metadata}` envelope. Requests reach the provider as if
 * they came to the public URL, so every URL it builds is under the issuer.
 */
export function registerOidcRoutes(app: HttpApp, db: Db, deps: OidcDeps, host: OidcHost): void {
  // The provider trusts these headers (proxy mode); they are always Landlord's own, never the client's.
  const asPublic = (request: FastifyRequest) => {
    const base = new URL(deps.baseUrl());
    const raw = request.raw as IncomingMessage & { originalUrl?: string };
    raw.headers['x-forwarded-proto'] = base.protocol.slice(0, -1);
    raw.headers['x-forwarded-host'] = base.host;
    if (base.pathname !== '/') raw.originalUrl = `${base.pathname.replace(/\/$/, '')}${raw.url}`;
    return raw;
  };
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    const handler = await host.handler();
    const raw = asPublic(request);
    reply.hijack();
    await handler(raw, reply.raw as ServerResponse);
  };

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const config = { public: true, throttled: true };
    scope.get('/.well-known/openid-configuration', { config, schema: { hide: true } }, forward);
    scope.route({ method: ['GET', 'POST', 'OPTIONS'], url: '/oidc/*', config, schema: { hide: true }, handler: forward });
  });

  app.get<{ Params: { uid: string } }>(
    '/interaction/:uid',
    { config: { public: true, throttled: true }, schema: { hide: true } },
    async (request, reply) => {
      const provider = await host.provider();
      const refuse = (status: number, title: string, text: string) => sendPage(reply, status, messagePage(title, text), PAGE_POLICY);
      let details: Awaited<ReturnType<Provider['interactionDetails']>>;
      try {
        details = await provider.interactionDetails(asPublic(request), reply.raw);
      } catch {
        return refuse(
          400,
          'Sign-in expired',
          'This sign-in took too long or was already finished. Go back to the application and start again.',
        );
      }
      if (details.uid !== request.params.uid) return refuse(400, 'Sign-in expired', 'Go back to the application and start again.');
      const client = await findOidcClientByClientId(db, String(details.params.client_id ?? ''));
      if (!client) return refuse(400, 'Unknown application', 'The application that sent you here is not registered.');
      const product = { id: client.product_id, name: client.product_name };
      const tenantHint = typeof details.params.tenant === 'string' ? details.params.tenant : undefined;
      const state = await signInState(db, deps, request, product, `/interaction/${details.uid}`, tenantHint);
      if (state.kind === 'redirect') return reply.redirect(state.location, 303);
      if (state.kind === 'no_tenant')
        return refuse(403, 'No account here', 'You are signed in, but you have no account of this application that is open now.');
      const { session, membershipId } = state;

      let result: Parameters<Provider['interactionResult']>[2];
      if (details.prompt.name === 'login') {
        result = {
          login: { accountId: session.subjectId, amr: [AMR[session.method] ?? 'pwd'], ts: Math.floor(session.createdAt.getTime() / 1000) },
        };
      } else {
        // First-party clients (every client is its product's own) are granted what they ask, without a consent screen.
        const grant = new provider.Grant({ accountId: session.subjectId, clientId: client.client_id });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
          grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        await recordGrantTenant(db, { grantId, membershipId, sessionId: session.id, expiresAt: session.absoluteExpiresAt });
        result = { consent: { grantId } };
      }
      const location = await provider.interactionResult(asPublic(request), reply.raw, result, { mergeWithLastSubmission: false });
      return reply.redirect(location, 303);
    },
  );
}
