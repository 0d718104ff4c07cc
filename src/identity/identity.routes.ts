import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import { CSRF_FIELD, csrfToken, isValidCsrf, preSessionSecret } from '../http/csrf.ts';
import { sendPage } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import { findProduct } from '../products/products.repo.ts';
import {
  chooseSessionTenant,
  clearSessionCookie,
  listLiveSessions,
  sessionOfRequest,
  sessionTokenOf,
  setSessionCookie,
} from '../sessions/session-store.ts';
import type { IdentityDeps } from './identity-deps.ts';
import { accountPage, forgotPage, messagePage, PAGE_POLICY, signInPage, tenantChooserPage } from './pages.ts';
import { requestPasswordReset } from './password-links.service.ts';
import { endUserSession } from './session-actions.ts';
import { signInWithPassword } from './sign-in.service.ts';
import { safeReturnPath, scopeOfQuery, signInState, tenantChooserPath } from './sign-in-flow.ts';
import { signInTenantsOf } from './tenant-context.ts';

type Form = Record<string, string | string[] | undefined>;
const field = (body: unknown, name: string): string => {
  const value = (body as Form | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};
const noTenantPage = (productName: string) =>
  messagePage('No account here', `You are signed in, but you have no account of ${productName} that is open now.`, productName);
const PAGE = { config: { public: true, throttled: true }, schema: { hide: true } } as const;

/**
 * Landlord's own pages for tenant users (server-rendered, no script): sign-in with e-mail
 * and password, the tenant chooser, "forgot your password", the account page with the
 * session list, revocation and sign-out. Every form carries a CSRF token bound to the
 * session (or, before sign-in, to a pre-session cookie).
 */
export function registerIdentityPages(app: HttpApp, db: Db, deps: IdentityDeps): void {
  app.register(async (scope) => {
    await scope.register(formbody);
    const page = (reply: FastifyReply, status: number, body: Parameters<typeof sendPage>[2]) => sendPage(reply, status, body, PAGE_POLICY);
    const productOr404 = async (reply: FastifyReply, name: string) => {
      const product = await findProduct(db, name);
      if (!product) page(reply, 404, messagePage('Not found', 'There is no such product here.'));
      return product;
    };
    const context = (request: FastifyRequest, productId: string) => ({
      productId,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
      requestId: request.id,
    });
    const badForm = (reply: FastifyReply, productName?: string) =>
      page(
        reply,
        403,
        messagePage(
          'Please try again',
          'This form expired or did not come from this site. Go back, reload the page and try again.',
          productName,
        ),
      );

    // `marketplace`: the scope a marketplace's single sign-on gives the sign-in (only its groups are offered).
    type ProductParams = { Params: { product: string }; Querystring: { return_to?: string; tenant?: string; marketplace?: string } };

    scope.get<ProductParams>('/signin/:product', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const returnTo = safeReturnPath(request.query.return_to, `/account/${product.name}`);
      const scope = scopeOfQuery(request.query);
      const state = await signInState(db, deps, request, product, returnTo, request.query.tenant, scope);
      if (state.kind === 'ready') return reply.redirect(returnTo, 303);
      if (state.kind === 'redirect' && state.location === tenantChooserPath(product.name, returnTo, scope))
        return reply.redirect(state.location, 303);
      if (state.kind === 'no_tenant') return page(reply, 403, noTenantPage(product.display_name));
      const csrf = csrfToken(preSessionSecret(request, reply, deps.csrfCookie));
      return page(
        reply,
        200,
        signInPage({ productName: product.display_name, action: request.url, csrf, forgotUrl: `/signin/${product.name}/forgot` }),
      );
    });

    scope.post<ProductParams>('/signin/:product', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const secret = preSessionSecret(request, reply, deps.csrfCookie);
      if (!isValidCsrf(secret, field(request.body, CSRF_FIELD))) return badForm(reply, product.display_name);
      const email = field(request.body, 'email').slice(0, 320);
      const password = field(request.body, 'password').slice(0, 1024);
      const again = (status: number, error: string) =>
        page(
          reply,
          status,
          signInPage({
            productName: product.display_name,
            action: request.url,
            csrf: csrfToken(secret),
            email,
            error,
            forgotUrl: `/signin/${product.name}/forgot`,
          }),
        );
      if (!email || !password) return again(400, 'Enter your e-mail address and your password.');
      const outcome = await signInWithPassword(db, deps, context(request, product.id), email, password);
      if (!outcome.ok && outcome.reason === 'throttled') {
        reply.header('retry-after', String(outcome.retryAfterSeconds));
        return again(429, `Too many attempts. Try again in ${Math.ceil(outcome.retryAfterSeconds / 60)} minutes.`);
      }
      if (!outcome.ok) return again(401, 'The e-mail address or the password is not right.');
      setSessionCookie(reply, deps.sessions, outcome.token, outcome.session);
      const returnTo = safeReturnPath(request.query.return_to, `/account/${product.name}`);
      const scope = scopeOfQuery(request.query);
      const tenants = await signInTenantsOf(db, outcome.session.subjectId, product.id, scope);
      if (tenants.length === 0) return page(reply, 403, noTenantPage(product.display_name));
      const hinted = tenants.find((tenant) => tenant.tenantName === request.query.tenant || tenant.tenantId === request.query.tenant);
      const chosen = hinted ?? (tenants.length === 1 ? tenants[0] : undefined);
      if (chosen) {
        await chooseSessionTenant(db, outcome.session.id, product.id, chosen.membershipId);
        return reply.redirect(returnTo, 303);
      }
      return reply.redirect(tenantChooserPath(product.name, returnTo, scope), 303);
    });

    scope.get<ProductParams>('/signin/:product/tenant', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
      const returnTo = safeReturnPath(request.query.return_to, `/account/${product.name}`);
      if (!session) return reply.redirect(`/signin/${product.name}?${new URLSearchParams({ return_to: returnTo })}`, 303);
      const tenants = await signInTenantsOf(db, session.subjectId, product.id, scopeOfQuery(request.query));
      const csrf = csrfToken(sessionTokenOf(deps.sessions, request) ?? '');
      return page(reply, 200, tenantChooserPage({ productName: product.display_name, action: request.url, csrf, tenants }));
    });

    scope.post<ProductParams>('/signin/:product/tenant', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
      if (!session || !isValidCsrf(sessionTokenOf(deps.sessions, request), field(request.body, CSRF_FIELD)))
        return badForm(reply, product.display_name);
      const tenants = await signInTenantsOf(db, session.subjectId, product.id, scopeOfQuery(request.query));
      const chosen = tenants.find((tenant) => tenant.tenantName === field(request.body, 'tenant'));
      if (!chosen) return page(reply, 400, messagePage('Choose an account', 'Choose one of the accounts listed.', product.display_name));
      await chooseSessionTenant(db, session.id, product.id, chosen.membershipId);
      return reply.redirect(safeReturnPath(request.query.return_to, `/account/${product.name}`), 303);
    });

    scope.get<ProductParams>('/signin/:product/forgot', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const csrf = csrfToken(preSessionSecret(request, reply, deps.csrfCookie));
      return page(reply, 200, forgotPage({ productName: product.display_name, action: request.url, csrf, sent: false }));
    });

    scope.post<ProductParams>('/signin/:product/forgot', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      if (!isValidCsrf(preSessionSecret(request, reply, deps.csrfCookie), field(request.body, CSRF_FIELD)))
        return badForm(reply, product.display_name);
      const email = field(request.body, 'email').slice(0, 320);
      if (email) await db.transaction().execute((tx) => requestPasswordReset(tx, deps, context(request, product.id), email));
      return page(reply, 200, forgotPage({ productName: product.display_name, action: request.url, csrf: '', sent: true }));
    });

    scope.get<ProductParams>('/account/:product', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
      if (!session) return reply.redirect(`/signin/${product.name}`, 303);
      const user = await db.selectFrom('users').select(['email']).where('id', '=', session.subjectId).executeTakeFirst();
      const tenants = await signInTenantsOf(db, session.subjectId, product.id);
      const tenant = tenants.find((one) => one.membershipId === session.tenants[product.id]);
      const sessions = await listLiveSessions(db, deps.clock, 'user', session.subjectId);
      return page(
        reply,
        200,
        accountPage({
          productName: product.display_name,
          email: user?.email ?? '',
          tenant: tenant ? `${tenant.tenantDisplayName} (${tenant.login})` : undefined,
          sessions: sessions.map((one) => ({ ...one, current: one.id === session.id })),
          csrf: csrfToken(sessionTokenOf(deps.sessions, request) ?? ''),
          revokeAction: (id) => `/account/${product.name}/sessions/${id}/revoke`,
          signOutAction: `/signout/${product.name}`,
        }),
      );
    });

    scope.post<{ Params: { product: string; session: string } }>(
      '/account/:product/sessions/:session/revoke',
      PAGE,
      async (request, reply) => {
        const product = await productOr404(reply, request.params.product);
        if (!product) return reply;
        const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
        if (!session || !isValidCsrf(sessionTokenOf(deps.sessions, request), field(request.body, CSRF_FIELD)))
          return badForm(reply, product.display_name);
        const mine = (await listLiveSessions(db, deps.clock, 'user', session.subjectId)).some((one) => one.id === request.params.session);
        if (mine) {
          await db
            .transaction()
            .execute((tx) =>
              endUserSession(
                tx,
                deps.clock,
                { type: 'user', id: session.subjectId, requestId: request.id },
                { id: request.params.session, userId: session.subjectId, productId: product.id },
                'revoked',
              ),
            );
        }
        if (request.params.session === session.id) {
          clearSessionCookie(reply, deps.sessions);
          return reply.redirect(`/signin/${product.name}`, 303);
        }
        return reply.redirect(`/account/${product.name}`, 303);
      },
    );

    scope.post<{ Params: { product: string } }>('/signout/:product', PAGE, async (request, reply) => {
      const product = await productOr404(reply, request.params.product);
      if (!product) return reply;
      const session = await sessionOfRequest(db, deps.clock, deps.sessions, request);
      if (session && !isValidCsrf(sessionTokenOf(deps.sessions, request), field(request.body, CSRF_FIELD)))
        return badForm(reply, product.display_name);
      if (session) {
        await db
          .transaction()
          .execute((tx) =>
            endUserSession(
              tx,
              deps.clock,
              { type: 'user', id: session.subjectId, requestId: request.id },
              { id: session.id, userId: session.subjectId, productId: product.id },
              'signed_out',
            ),
          );
      }
      clearSessionCookie(reply, deps.sessions);
      return page(reply, 200, messagePage('Signed out', `You are signed out of ${product.display_name}.`, product.display_name));
    });
  });
}
