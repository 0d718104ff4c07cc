import { html, type SafeHtml } from '../../http/html.ts';
import { findFailingRenewals, findPastDueInvoices, findWaitingChanges } from '../commerce-overview.repo.ts';
import { badge, empty, when } from '../layout.ts';
import type { ConsoleContext } from '../router.ts';
import { invoiceName } from './invoices.ts';
import { money } from './money.ts';

const SHOWN = 10;

/** Plan changes the product's backend has not confirmed yet. */
export async function waitingChanges(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await findWaitingChanges(context.services.db, context.principal.productId, SHOWN);
  if (!rows.length) return empty('No plan change is waiting for a backend.');
  return html`<ul>${rows.map(
    (row) =>
      html`<li><a href="/console/tenants/${row.tenant_id}?tab=subscription">${row.tenant_name}</a>: ${row.kind} ${badge(row.status, 'warn')}${row.report_due_at ? html`, report due ${when(row.report_due_at)}` : ''}</li>`,
  )}</ul>`;
}

/** Subscriptions whose renewal keeps failing. */
export async function failingRenewals(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await findFailingRenewals(context.services.db, context.principal.productId, SHOWN);
  if (!rows.length) return empty('No renewal is failing.');
  return html`<ul>${rows.map(
    (row) =>
      html`<li><a href="/console/tenants/${row.tenant_id}?tab=subscription">${row.tenant_name}</a>: ${row.renewal_failures} failures, last ${when(row.renewal_failed_at)}${row.renewal_error ? html` (${row.renewal_error})` : ''}</li>`,
  )}</ul>`;
}

/** Open invoices of past-due subscriptions. */
export async function pastDueInvoices(context: ConsoleContext): Promise<SafeHtml> {
  const rows = await findPastDueInvoices(context.services.db, context.principal.productId, SHOWN);
  if (!rows.length) return empty('No invoice is past due.');
  return html`<ul>${rows.map(
    (row) =>
      html`<li><a href="/console/invoices/${row.id}">${invoiceName(row)}</a> of <a href="/console/tenants/${row.tenant_id}?tab=billing">${row.tenant_name}</a>: ${money(Number(row.due), row.currency)} due since ${when(row.finalized_at)}</li>`,
  )}</ul><p><a href="/console/invoices?status=open">Open invoices</a></p>`;
}
