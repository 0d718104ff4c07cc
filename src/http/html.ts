import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** HTML that is safe to send as it is: built by {@link html}, which escapes everything put into it. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * The one way pages are written: a tagged template that escapes every interpolated value
 * (text, attributes) unless it is itself {@link SafeHtml}; arrays are joined, and
 * null, undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** The CSP hash source of an inline `<style>` or `<script>` body. */
export function cspHash(body: string): string {
  return `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
}

/** What a page may load or post to beyond itself. */
export interface PagePolicy {
  /** Inline styles and scripts the page carries, by CSP hash ({@link cspHash}). */
  styleHashes?: string[];
  scriptHashes?: string[];
  /** Origins forms may post to besides Landlord itself (a SAML service provider's ACS). */
  formAction?: string[];
}

/**
 * Sends a server-rendered page with a strict Content-Security-Policy (nothing loads but
 * the hashed inline style and script), not framable, not cached, no referrer.
 */
export function sendPage(reply: FastifyReply, status: number, page: SafeHtml, policy: PagePolicy = {}) {
  const csp = [
    "default-src 'none'",
    `style-src ${(policy.styleHashes ?? []).join(' ') || "'none'"}`,
    `script-src ${(policy.scriptHashes ?? []).join(' ') || "'none'"}`,
    "img-src 'self' data:",
    `form-action 'self'${(policy.formAction ?? []).map((origin) => ` ${origin}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    .send(`<!doctype html>\n${page.value}`);
}
