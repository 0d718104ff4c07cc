import type { Principal } from '../access/principal.ts';
import { CSRF_FIELD } from '../http/csrf.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { ASSETS } from './assets.ts';

/** One entry of the main navigation; a new page adds one line to {@link NAV}. */
export interface NavItem {
  href: string;
  label: string;
  /** Which section is current: the first path segment after `/console`. */
  section: string;
  /** Shown to super admins only (the page answers 403 to anyone else). */
  superAdmin?: boolean;
}

/** The main navigation, in order. */
export const NAV: NavItem[] = [
  { href: '/console', label: 'Overview', section: '' },
  { href: '/console/products', label: 'Products', section: 'products' },
  { href: '/console/tenants', label: 'Tenants', section: 'tenants' },
  { href: '/console/invoices', label: 'Invoices', section: 'invoices' },
  { href: '/console/events', label: 'Events', section: 'events' },
  { href: '/console/webhooks', label: 'Webhooks', section: 'webhooks' },
  { href: '/console/audit', label: 'Audit log', section: 'audit' },
  { href: '/console/operators', label: 'Operators', section: 'operators', superAdmin: true },
  { href: '/console/system', label: 'System', section: 'system', superAdmin: true },
];

// htmx must not inject its indicator <style> (CSP forbids inline styles) nor evaluate code.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
});

/** What every signed-in page knows about the request. */
export interface Frame {
  principal: Principal;
  csrf: string;
  section: string;
  notice?: string;
}

/** The page around every signed-in console screen: skip link, top bar, navigation, main. */
export function layout(title: string, frame: Frame, body: SafeHtml): SafeHtml {
  const scope = frame.principal.productId ? html` · <span class="muted">one product</span>` : '';
  return html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title} · Landlord console</title><link rel="stylesheet" href="${ASSETS.css.path}">
<script src="${ASSETS.htmx.path}" defer></script></head>
<body hx-headers="${JSON.stringify({ 'x-csrf-token': frame.csrf })}"><a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/console">Landlord console</a>
<span>${frame.principal.name}${scope}</span>
<form method="post" action="/console/signout">${csrfField(frame.csrf)}<button type="submit">Sign out</button></form></header>
<nav class="main" aria-label="Console"><ul>${NAV.filter((item) => !item.superAdmin || frame.principal.role === 'super_admin').map(
    (item) => html`<li><a href="${item.href}"${item.section === frame.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
  )}</ul></nav>
<main id="main">${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p>` : ''}${body}</main></body></html>`;
}

/** A page for someone not signed in (sign-in, links, errors before a session). */
export function bareLayout(title: string, body: SafeHtml): SafeHtml {
  return html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Landlord console</title><link rel="stylesheet" href="${ASSETS.css.path}"></head>
<body><main id="main">${body}</main></body></html>`;
}

/** The hidden CSRF field every console form carries. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

/** A one-button form that posts to `action` (a lifecycle action, a rotation…). */
export function postButton(action: string, label: string, csrf: string, options: { danger?: boolean; secondary?: boolean } = {}): SafeHtml {
  const kind = options.danger ? 'danger' : options.secondary ? 'secondary' : '';
  return html`<form class="inline" method="post" action="${action}">${csrfField(csrf)}<button type="submit"${kind ? html` class="${kind}"` : ''}>${label}</button></form>`;
}

/**
 * The form a destructive action needs: the operator types the object's name, which the
 * server compares before it acts (`requireConfirmation`).
 */
export function confirmForm(action: string, objectName: string, label: string, csrf: string): SafeHtml {
  const id = `confirm-${Math.abs(hashCode(action))}`;
  return html`<form class="row" method="post" action="${action}">${csrfField(csrf)}
<div><label for="${id}">Type <span class="mono">${objectName}</span> to ${label.toLowerCase()}</label>
<input id="${id}" name="confirm" autocomplete="off" required></div><button type="submit" class="danger">${label}</button></form>`;
}

/** A status word as a coloured badge (colour is never the only signal: the word is always there). */
export function badge(text: string, tone: 'good' | 'bad' | 'warn' | 'neutral'): SafeHtml {
  return html`<span class="badge ${tone}">${text}</span>`;
}

/** The tone of a tenant status. */
export function statusTone(status: string): 'good' | 'bad' | 'warn' | 'neutral' {
  if (status === 'active' || status === 'created_as_active') return 'good';
  if (status === 'failure') return 'bad';
  if (status === 'inactive' || status === 'deleted' || status === 'record_created') return 'neutral';
  return 'warn';
}

/**
 * A "next page" link carrying the cursor and the current filters. A page with two lists gives
 * each its own query key and a label that says which list goes on.
 */
export function pager(
  path: string,
  query: Record<string, string | undefined>,
  nextCursor: string | null,
  options: { key?: string; label?: string } = {},
): SafeHtml {
  if (!nextCursor) return html``;
  return html`<p><a rel="next" href="${withQuery(path, { ...query, [options.key ?? 'cursor']: nextCursor })}">${options.label ?? 'Next page'}</a></p>`;
}

/** `path` with the defined, non-empty query values appended. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** A timestamp as operators read it: UTC, to the second. */
export function when(value: Date | string | null | undefined): string {
  if (!value) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Pretty JSON in a <pre>, escaped. */
export function json(value: unknown): SafeHtml {
  // Focusable: a long payload scrolls, and a keyboard user must be able to scroll it.
  return html`<pre tabindex="0">${JSON.stringify(value, null, 2)}</pre>`;
}

/** An empty-list line. */
export function empty(text: string): SafeHtml {
  return html`<p class="muted">${text}</p>`;
}

function hashCode(text: string): number {
  let hash = 0;
  for (const character of text) hash = (hash * 31 + character.charCodeAt(0)) | 0;
  return hash;
}
