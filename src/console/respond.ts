import type { FastifyReply } from 'fastify';
import type { SafeHtml } from '../http/html.ts';

/**
 * The console's Content-Security-Policy: everything from Landlord itself and nothing else;
 * no inline script or style (htmx and the stylesheet are files), no framing, forms post home.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Sends a console page or fragment with the console's CSP and no caching. */
export function sendConsolePage(reply: FastifyReply, status: number, page: SafeHtml) {
  const text = page.value.startsWith('<html') ? `<!doctype html>\n${page.value}` : page.value;
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONSOLE_CSP,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
    })
    .send(text);
}
