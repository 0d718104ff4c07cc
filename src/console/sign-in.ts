import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { type CookiePolicy, clearCookie } from '../http/cookies.ts';
import { csrfToken, isValidCsrf, preSessionSecret } from '../http/csrf.ts';
import { html } from '../http/html.ts';
import type { Services } from '../routes.ts';
import {
  clearSessionCookie,
  revokeSession,
  type SessionPolicy,
  sessionOfRequest,
  setSessionCookie,
  startSession,
} from '../sessions/session-store.ts';
import { bareLayout, csrfField } from './layout.ts';
import { type OperatorSubject, principalOfSubject, redeemConsoleLink, subjectOfKey } from './operators.ts';
import { checkOrigin, formOf, queryOf } from './request.ts';
import { sendConsolePage } from './respond.ts';

const OPEN = { config: { public: true, throttled: true }, schema: { hide: true } } as const;

/** Where to go after signing in: a console path only (never another site). */
export function safeConsolePath(value: string | undefined): string {
  return value && /^\/console(\/|$|\?)/.test(value) && !value.includes('//') && !value.includes('\\') ? value : '/console';
}

/**
 * Signing in and out: paste an operator key (once: the browser keeps only a session cookie),
 * or open a one-time console link and press the button (a GET never signs in, so a link
 * previewer cannot spend it), and sign out. The forms before sign-in carry a CSRF token
 * bound to a pre-session cookie, against login CSRF.
 */
export function registerSignIn(scope: FastifyInstance, services: Services, policy: SessionPolicy): void {
  const { db, clock } = services;
  const pre: CookiePolicy = { ...policy.cookie, name: 'landlord_console_pre' };
  const page = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
    sendConsolePage(reply, status, bareLayout(title, body));

  const signInForm = (csrf: string, returnTo: string, error?: string) =>
    html`<h1>Sign in to the Landlord console</h1>${error ? html`<p class="error" role="alert" id="key-error">${error}</p>` : ''}
<form method="post" action="/console/signin?${new URLSearchParams({ return_to: returnTo })}">${csrfField(csrf)}
<label for="key">Operator key</label>
<p class="muted" id="key-hint">An operator API key (<span class="mono">ll_…</span>) or LANDLORD_ADMIN_KEY. It is checked once; the browser keeps only a session.</p>
<input id="key" name="key" type="password" autocomplete="off" required aria-describedby="key-hint${error ? ' key-error' : ''}">
<p><button type="submit">Sign in</button></p></form>
<p class="muted">Or run <span class="mono">npm run landlord -- console link</span> and open the link it prints.</p>`;

  const begin = async (request: FastifyRequest, reply: FastifyReply, subject: OperatorSubject, method: string) => {
    const { session, token } = await startSession(db, clock, policy, {
      subjectId: subject,
      method,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    });
    const principal = await principalOfSubject(db, services.config, subject);
    if (principal) {
      await insertAuditRecord(
        db,
        { type: principal.kind, id: principal.id, requestId: request.id },
        {
          action: 'console.sign_in',
          objectType: 'session',
          objectId: session.id,
          productId: principal.productId,
          after: { method },
        },
      );
    }
    clearCookie(reply, pre);
    setSessionCookie(reply, policy, token, session);
  };

  scope.get('/console/signin', OPEN, async (request, reply) => {
    const returnTo = safeConsolePath(queryOf(request).return_to);
    if (await sessionOfRequest(db, clock, policy, request)) return reply.redirect(returnTo, 303);
    return page(reply, 200, 'Sign in', signInForm(csrfToken(preSessionSecret(request, reply, pre)), returnTo));
  });

  scope.post('/console/signin', OPEN, async (request, reply) => {
    checkOrigin(request, services.config.publicUrl);
    const returnTo = safeConsolePath(queryOf(request).return_to);
    const secret = preSessionSecret(request, reply, pre);
    const form = formOf(request);
    if (!isValidCsrf(secret, form._csrf))
      return page(reply, 403, 'Sign in', signInForm(csrfToken(secret), returnTo, 'This form expired. Try again.'));
    const found = form.key ? await subjectOfKey(services.authenticator, form.key) : undefined;
    if (!found) return page(reply, 401, 'Sign in', signInForm(csrfToken(secret), returnTo, 'That is not a valid operator key.'));
    await begin(request, reply, found.subject, 'key');
    return reply.redirect(returnTo, 303);
  });

  scope.get<{ Params: { token: string } }>('/console/link/:token', OPEN, async (request, reply) => {
    const csrf = csrfToken(preSessionSecret(request, reply, pre));
    return page(
      reply,
      200,
      'Console link',
      html`<h1>Sign in with a console link</h1><p>This link signs this browser in to the Landlord console. It works once, within 5 minutes of being made.</p>
<form method="post" action="/console/link/${request.params.token}">${csrfField(csrf)}<button type="submit">Sign in</button></form>`,
    );
  });

  scope.post<{ Params: { token: string } }>('/console/link/:token', OPEN, async (request, reply) => {
    checkOrigin(request, services.config.publicUrl);
    const secret = preSessionSecret(request, reply, pre);
    if (!isValidCsrf(secret, formOf(request)._csrf))
      return page(
        reply,
        403,
        'Console link',
        html`<h1>Please try again</h1><p class="error" role="alert">This form expired. Open the link again.</p>`,
      );
    const subject = await redeemConsoleLink(db, clock, request.params.token);
    if (!subject || !(await principalOfSubject(db, services.config, subject))) {
      return page(
        reply,
        401,
        'Console link',
        html`<h1>This link cannot be used</h1><p class="error" role="alert">The console link is unknown, was used already or expired. Run <span class="mono">npm run landlord -- console link</span> for a new one.</p>`,
      );
    }
    await begin(request, reply, subject, 'console_link');
    return reply.redirect('/console', 303);
  });

  scope.post('/console/signout', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const session = await sessionOfRequest(db, clock, policy, request);
    if (session && (await revokeSession(db, clock, session.id, 'signed out')) && request.principal) {
      await insertAuditRecord(db, actorOf(request.principal, request.id), {
        action: 'console.sign_out',
        objectType: 'session',
        objectId: session.id,
        productId: request.principal.productId,
      });
    }
    clearSessionCookie(reply, policy);
    return reply.redirect('/console/signin', 303);
  });
}
