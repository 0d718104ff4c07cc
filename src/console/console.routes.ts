import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, type Principal } from '../access/principal.ts';
import { AppError } from '../errors/app-error.ts';
import { csrfToken, isValidCsrf } from '../http/csrf.ts';
import { answerFor } from '../http/error-handler.ts';
import { html } from '../http/html.ts';
import type { HttpApp } from '../http/types.ts';
import type { Services } from '../routes.ts';
import { type Session, type SessionPolicy, sessionOfRequest, sessionTokenOf } from '../sessions/session-store.ts';
import { registerAssets } from './assets.ts';
import { CONSOLE_FEATURES } from './features.ts';
import { bareLayout, layout } from './layout.ts';
import { consoleSessionPolicy, principalOfSubject } from './operators.ts';
import { checkOrigin, formOf, queryOf } from './request.ts';
import { sendConsolePage } from './respond.ts';
import { type ConsoleContext, createRouter } from './router.ts';
import { registerSignIn } from './sign-in.ts';

interface Signed {
  session: Session;
  principal: Principal;
}

/**
 * The admin console under `/console`: server-rendered pages over the same services as
 * `/v1`, for an operator signed in with a cookie session. Every request but the sign-in
 * pages and assets needs a live session whose key is still valid; every POST checks
 * `Origin` and the session's CSRF token before anything runs.
 */
export async function registerConsole(app: HttpApp, services: Services): Promise<void> {
  if (!services.config.console) return;
  const policy = consoleSessionPolicy(services.config);
  await app.register(async (scope: FastifyInstance) => {
    await scope.register(formbody);
    registerAssets(scope);
    const signed = new WeakMap<FastifyRequest, Signed>();

    scope.setErrorHandler((error: FastifyError, request, reply) => renderError(error, request, reply, signed.get(request), policy));

    scope.addHook('onRequest', async (request, reply) => {
      if (request.is404 || isOpenPath(request.routeOptions.url ?? '')) return;
      const session = await sessionOfRequest(services.db, services.clock, policy, request);
      const principal = session ? await principalOfSubject(services.db, services.config, session.subjectId) : undefined;
      if (!session || !principal) return signInFirst(request, reply);
      request.principal = principal;
      signed.set(request, { session, principal });
    });
    scope.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD' || isOpenPath(request.routeOptions.url ?? '')) return;
      checkOrigin(request, services.config.publicUrl);
      const presented = formOf(request)._csrf ?? request.headers['x-csrf-token'];
      if (!isValidCsrf(sessionTokenOf(policy, request), presented)) {
        throw new AppError('console.forbidden_origin', { parameter: '_csrf' });
      }
    });

    registerSignIn(scope, services, policy);
    const contextOf = (request: FastifyRequest, reply: FastifyReply): ConsoleContext => {
      const state = signed.get(request);
      if (!state) throw new Error('console route without a session');
      return {
        request,
        reply,
        services,
        principal: state.principal,
        caller: { principal: state.principal, actor: actorOf(state.principal, request.id) },
        session: state.session,
        csrf: csrfToken(sessionTokenOf(policy, request) ?? ''),
        params: (request.params ?? {}) as Record<string, string>,
        query: queryOf(request),
        form: formOf(request),
        // htmx restoring history asks for the whole page, not the fragment.
        partial: request.headers['hx-request'] === 'true' && request.headers['hx-history-restore-request'] !== 'true',
      };
    };
    const router = createRouter(scope, contextOf);
    for (const register of CONSOLE_FEATURES) register(router);
  });
}

// Reachable without a session: signing in, console links, the stylesheet and htmx.
function isOpenPath(url: string): boolean {
  return url === '/console/signin' || url.startsWith('/console/link/') || url.startsWith('/console/assets/');
}

function signInFirst(request: FastifyRequest, reply: FastifyReply) {
  const returnTo = request.method === 'GET' ? request.url : '/console';
  const location = `/console/signin?${new URLSearchParams({ return_to: returnTo })}`;
  // htmx follows a redirect inside the fragment; HX-Redirect makes it load the sign-in page instead.
  if (request.headers['hx-request'] === 'true') return reply.code(401).header('hx-redirect', location).send('');
  return reply.redirect(location, 303);
}

function renderError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, state: Signed | undefined, policy: SessionPolicy) {
  const answer = answerFor(error, request);
  reply.headers(answer.headers);
  const item = answer.items[0];
  const message = item?.message ?? 'Something went wrong';
  const body = html`<h1>${titleFor(answer.status)}</h1><p class="error" role="alert">${message}</p>
${answer.internal ? html`<p class="muted">Request id <span class="mono">${request.id}</span></p>` : ''}<p><a href="/console">Back to the overview</a></p>`;
  if (!state) return sendConsolePage(reply, answer.status, bareLayout(titleFor(answer.status), body));
  const frame = { principal: state.principal, csrf: csrfToken(sessionTokenOf(policy, request) ?? ''), section: '' };
  if (request.headers['hx-request'] === 'true')
    return sendConsolePage(reply, answer.status, html`<p class="error" role="alert">${message}</p>`);
  return sendConsolePage(reply, answer.status, layout(titleFor(answer.status), frame, body));
}

function titleFor(status: number): string {
  if (status === 404) return 'Not found';
  if (status === 403) return 'Not allowed';
  if (status === 409) return 'Not possible now';
  if (status === 422 || status === 400) return 'Please check';
  if (status === 503) return 'Database unavailable';
  return status >= 500 ? 'Something went wrong' : 'Please check';
}
