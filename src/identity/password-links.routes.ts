import formbody from '@fastify/formbody';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { CSRF_FIELD, csrfToken, isValidCsrf, preSessionSecret } from '../http/csrf.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { type SafeHtml, sendPage } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import { findProduct } from '../products/products.repo.ts';
import { setSessionCookie } from '../sessions/session-store.ts';
import type { IdentityDeps } from './identity-deps.ts';
import { messagePage, PAGE_POLICY, passwordPage } from './pages.ts';
import { createPasswordLink, findUsablePasswordLink, type PasswordLinkFailure, setPasswordWithLink } from './password-links.service.ts';

const PasswordLink = Type.Object({
  url: Type.String({ description: 'Send the user here; it works once' }),
  purpose: Type.Union([Type.Literal('set'), Type.Literal('reset')]),
  expires: Type.String({ format: 'date-time' }),
});

const FAILURES: Record<PasswordLinkFailure, { status: number; title: string; text: string }> = {
  invalid: { status: 404, title: 'Link not valid', text: 'This link is not valid. Check that you copied all of it, or ask for a new one.' },
  used: { status: 410, title: 'Link used', text: 'This link has been used already. Each link works once: ask for a new one.' },
  expired: { status: 410, title: 'Link expired', text: 'This link has expired. Ask for a new one.' },
};

/**
 * `POST /v1/tenants/{tenant}/users/{login}/password-links` (a link for the product to
 * deliver) and the page that opens one, `GET|POST /password/{token}`.
 */
export function registerPasswordLinkRoutes(app: HttpApp, db: Db, deps: IdentityDeps): void {
  app.post(
    '/v1/tenants/:tenant/users/:login/password-links',
    {
      schema: {
        tags: ['Identity'],
        summary: 'Create a one-time link to set or reset a password',
        description:
          'Operators and the product’s clients. The answer is the only place the URL appears: deliver it to the user (as an invitation is). Opening it lets the user choose a password once, signs them in to Landlord and ends their other sessions.',
        params: Type.Object({
          tenant: Type.String({ minLength: 1, maxLength: 200 }),
          login: Type.String({ minLength: 1, maxLength: 254 }),
        }),
        body: Type.Object(
          {
            purpose: Type.Optional(Type.Union([Type.Literal('set'), Type.Literal('reset')], { description: 'Default `set`' })),
            expiresInSeconds: Type.Optional(
              Type.Integer({ minimum: 300, maximum: 30 * 24 * 3600, description: 'Default 7 days (set) or 1 hour (reset)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: envelope(PasswordLink), ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, login } = request.params;
      const link = await db.transaction().execute((tx) => createPasswordLink(tx, deps, callerOf(request), tenant, login, request.body));
      return reply.code(201).header('cache-control', 'no-store').send(ok(link));
    },
  );

  app.register(async (scope) => {
    await scope.register(formbody);
    const page = (reply: FastifyReply, status: number, body: SafeHtml) => sendPage(reply, status, body, PAGE_POLICY);
    const failure = (reply: FastifyReply, reason: PasswordLinkFailure) => {
      const { status, title, text } = FAILURES[reason];
      return page(reply, status, messagePage(title, text));
    };
    const config = { config: { public: true, throttled: true }, schema: { hide: true } } as const;

    scope.get<{ Params: { token: string } }>('/password/:token', { ...config, exposeHeadRoute: false }, async (request, reply) => {
      const link = await findUsablePasswordLink(db, deps, request.params.token);
      if (!link.ok) return failure(reply, link.reason);
      const product = await findProduct(db, link.productId);
      const csrf = csrfToken(preSessionSecret(request, reply, deps.csrfCookie));
      return page(
        reply,
        200,
        passwordPage({ productName: product?.display_name ?? 'Landlord', action: request.url, csrf, email: link.email }),
      );
    });

    scope.post<{ Params: { token: string } }>('/password/:token', config, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (!isValidCsrf(preSessionSecret(request, reply, deps.csrfCookie), body[CSRF_FIELD])) {
        return page(reply, 403, messagePage('Please try again', 'This form expired. Go back, reload the page and try again.'));
      }
      const password = typeof body.password === 'string' ? body.password : '';
      const context = { ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id };
      const outcome = await db.transaction().execute((tx) => setPasswordWithLink(tx, deps, context, request.params.token, password));
      if (!outcome.ok && 'reason' in outcome) return failure(reply, outcome.reason);
      if (!outcome.ok) {
        const link = await findUsablePasswordLink(db, deps, request.params.token);
        const product = link.ok ? await findProduct(db, link.productId) : undefined;
        const csrf = csrfToken(preSessionSecret(request, reply, deps.csrfCookie));
        const email = link.ok ? link.email : '';
        return page(
          reply,
          400,
          passwordPage({ productName: product?.display_name ?? 'Landlord', action: request.url, csrf, email, error: outcome.problem }),
        );
      }
      const product = await findProduct(db, outcome.productId);
      setSessionCookie(reply, deps.sessions, outcome.token, outcome.session);
      return reply.redirect(`/account/${product?.name ?? ''}`, 303);
    });
  });
}
