import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How one cookie is set: its name, SameSite, and whether it is Secure (behind an https public URL). */
export interface CookiePolicy {
  name: string;
  sameSite: 'lax' | 'strict';
  secure: boolean;
  /** Default `/`. */
  path?: string;
}

/** True when browsers reach Landlord over https (`LANDLORD_PUBLIC_URL`): cookies are then Secure. */
export function secureCookiesFor(publicUrl: string | undefined): boolean {
  return publicUrl?.startsWith('https:') ?? false;
}

/** The value of cookie `name` in the request, or undefined. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  return parseCookie(header)[name];
}

/** Sets an HttpOnly cookie under `policy` that the browser keeps until `expires` (a session cookie without it). */
export function setCookie(reply: FastifyReply, policy: CookiePolicy, value: string, expires?: Date): void {
  reply.header(
    'set-cookie',
    stringifySetCookie({
      name: policy.name,
      value,
      httpOnly: true,
      secure: policy.secure,
      sameSite: policy.sameSite,
      path: policy.path ?? '/',
      ...(expires ? { expires } : {}),
    }),
  );
}

/** Tells the browser to forget the cookie. */
export function clearCookie(reply: FastifyReply, policy: CookiePolicy): void {
  setCookie(reply, policy, '', new Date(0));
}
