import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CookiePolicy, readCookie, setCookie } from './cookies.ts';

/** The form field every state-changing form carries. */
export const CSRF_FIELD = '_csrf';

/**
 * The CSRF token of a secret the browser holds in an HttpOnly cookie (a session token,
 * or a pre-session secret): an HMAC of it, so a page can carry it in a form while the
 * cookie stays unreadable to scripts, and another site can neither read nor forge it.
 */
export function csrfToken(secret: string): string {
  return createHmac('sha256', secret).update('landlord-csrf-v1').digest('base64url');
}

/** True when `presented` is the CSRF token of `secret` (constant time). */
export function isValidCsrf(secret: string | undefined, presented: unknown): boolean {
  if (!secret || typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(secret));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * The pre-session secret of a browser (for forms shown before anyone signed in, such as
 * the sign-in form itself, against login CSRF): read from its cookie, or made and set now.
 */
export function preSessionSecret(request: FastifyRequest, reply: FastifyReply, policy: CookiePolicy): string {
  const existing = readCookie(request, policy.name);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const secret = randomBytes(32).toString('base64url');
  setCookie(reply, policy, secret);
  return secret;
}
