import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import { startUserSession } from '../identity/sign-in.service.ts';
import { setSessionCookie } from '../sessions/session-store.ts';
import { createLoginLink, type LinkFailure, type LoginLinkDeps, openLoginLink } from './login-links.service.ts';

const tags = ['Login links'];

/** Body of a login-link request (native and reseller API alike). */
export const LoginLinkRequest = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        maxLength: 2000,
        // A path within the product: not `//host` or `/\host`, which browsers treat as another site.
        pattern: '^/(?![/\\\\])[\\x21-\\x7e]*$',
        description: 'Where the product takes the user after signing in; default `/`',
      }),
    ),
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 3600, description: 'Default 300' })),
  },
  { additionalProperties: false },
);
export type LoginLinkRequestBody = Static<typeof LoginLinkRequest>;

/** The native body: a link may also end in a Landlord session instead of the product's signInUrl. */
const NativeLoginLinkRequest = Type.Object(
  {
    ...LoginLinkRequest.properties,
    signIn: Type.Optional(
      Type.Union([Type.Literal('product'), Type.Literal('landlord')], {
        description:
          '`product` (default): the product’s `signInUrl` with an assertion; `landlord`: a Landlord session for the tenant, then `path` on Landlord (default `/account/{product}`), e.g. an OIDC authorization URL',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A login link as Sharespine returns it. */
export const LoginLink = Type.Object({
  path: Type.String(),
  loginUrl: Type.String({ description: 'Send the user’s browser here; it works once' }),
  expires: Type.String({ format: 'date-time', description: 'ISO 8601 UTC' }),
});

const MESSAGES: Record<LinkFailure, { status: number; text: string }> = {
  invalid: { status: 404, text: 'This sign-in link is not valid. Check that you copied all of it, or ask for a new one.' },
  used: { status: 410, text: 'This sign-in link has been used already. Each link works once: ask for a new one.' },
  expired: { status: 410, text: 'This sign-in link has expired. Ask for a new one.' },
  unavailable: { status: 409, text: 'You cannot be signed in right now: the account is not available. Ask for a new link later.' },
};

/** The base URL links point at: the configured public URL, or else the address the caller reached Landlord at. */
export function baseUrlOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

/** A plain page saying why nobody was signed in; nothing in it comes from the request. */
function errorPage(reply: FastifyReply, failure: LinkFailure) {
  const { status, text } = MESSAGES[failure];
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>Sign-in link</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
        `<h1 style="font-size:1.25rem">Nobody was signed in</h1><p>${text}</p></body></html>`,
    );
}

/** `POST /v1/tenants/{tenant}/users/{login}/login-links` and the page that opens a link, `GET /login/{token}`. */
export function registerLoginLinkRoutes(app: HttpApp, db: Db, deps: LoginLinkDeps): void {
  app.post(
    '/v1/tenants/:tenant/users/:login/login-links',
    {
      schema: {
        tags,
        summary: 'Create a one-time login link',
        description:
          'Operators, the product’s clients and resellers. Opening `loginUrl` signs the user in once: the browser goes to the product’s `signInUrl` with `assertion` (a JWT for audience = the product’s name, verifiable with `/.well-known/jwks.json`) and `path`.',
        params: Type.Object({
          tenant: Type.String({ minLength: 1, maxLength: 200 }),
          login: Type.String({ minLength: 1, maxLength: 254 }),
        }),
        body: NativeLoginLinkRequest,
        response: { 201: envelope(LoginLink), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, login } = request.params;
      const link = await db
        .transaction()
        .execute((tx) => createLoginLink(tx, deps, callerOf(request), tenant, login, request.body, baseUrlOf(request, deps.publicUrl)));
      return reply.code(201).send(ok(link));
    },
  );

  app.get(
    '/login/:token',
    {
      // A HEAD (a link preview, a mail scanner) must not spend the link.
      exposeHeadRoute: false,
      config: { public: true, throttled: true },
      schema: {
        tags,
        summary: 'Open a login link',
        description:
          'For browsers. Spends the link and answers 303 to the product’s `signInUrl?assertion=<JWT>&path=<path>`; a used or expired link is a plain page with 410, an unknown or altered one 404.',
        security: [],
        params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          303: { description: 'To the product’s sign-in URL with the assertion', type: 'null' },
          404: { description: 'Unknown or altered link (an HTML page)', type: 'string' },
          409: { description: 'The tenant or the user is not available now (an HTML page)', type: 'string' },
          410: { description: 'Used or expired link (an HTML page)', type: 'string' },
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      const opened = await db.transaction().execute(async (tx) => {
        const link = await openLoginLink(tx, deps, request.params.token, request.id);
        if (!link.ok || !('landlordSession' in link)) return link;
        if (!deps.identity) return { ok: false as const, reason: 'unavailable' as const };
        const { userId, membershipId, productId } = link.landlordSession;
        const context = { productId, ip: request.ip, userAgent: request.headers['user-agent'], requestId: request.id };
        const started = await startUserSession(tx, deps.identity, context, userId, 'login_link', { [productId]: membershipId });
        setSessionCookie(reply, deps.identity.sessions, started.token, started.session);
        return link;
      });
      if (!opened.ok) return errorPage(reply, opened.reason);
      return reply.code(303).header('location', opened.location).send(null);
    },
  );
}
