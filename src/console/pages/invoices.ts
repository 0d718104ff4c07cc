import { INVOICE_STATUSES, PaymentCreate } from '../../commerce/commerce.schemas.ts';
import {
  finalizeInvoice,
  getVisibleInvoice,
  type PaymentBody,
  recordPayment,
  toInvoiceDetail,
  voidInvoice,
} from '../../commerce/invoices.service.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { getVisibleProduct, listProducts } from '../../products/products.service.ts';
import { getVisibleTenant } from '../../tenants/tenants.service.ts';
import { formBody } from '../form-body.ts';
import { findInvoices, invoiceCurrencies, invoiceTotals } from '../invoices.repo.ts';
import { badge, confirmForm, csrfField, empty, pager, postButton, when } from '../layout.ts';
import { type ConsoleContext, type ConsoleRouter, requireConfirmation } from '../router.ts';
import { money } from './money.ts';

const PAGE_SIZE = 50;

/** The name a void confirmation asks for: the invoice's number, or a draft's id. */
export function invoiceName(invoice: { number: number | null; id: string }): string {
  return invoice.number === null ? `draft-${invoice.id.slice(0, 8)}` : `invoice-${invoice.number}`;
}

function statusBadge(status: string): SafeHtml {
  return badge(status, status === 'paid' ? 'good' : status === 'open' ? 'warn' : 'neutral');
}

async function filtersOf(context: ConsoleContext) {
  const { status, currency, product, tenant } = context.query;
  // A product-scoped operator sees its product only; a product filter is resolved (404 for a foreign one).
  const productId =
    context.principal.productId ?? (product ? (await getVisibleProduct(context.services.db, context.principal, product)).id : undefined);
  return {
    query: {
      status: status && (INVOICE_STATUSES as readonly string[]).includes(status) ? status : undefined,
      currency: currency && /^[A-Z]{3}$/.test(currency) ? currency : undefined,
      product: product || undefined,
      // A tenant's invoices (the billing tab's "all invoices"): resolved with the principal, 404 for a foreign one.
      tenant: tenant ? (await getVisibleTenant(context.services.db, context.principal, tenant)).id : undefined,
    },
    productId,
  };
}

async function invoiceList(context: ConsoleContext) {
  const { db } = context.services;
  const { query, productId } = await filtersOf(context);
  const filter = { productId, status: query.status, currency: query.currency, tenantId: query.tenant };
  const before = context.query.cursor && /^[0-9a-f-]{36}$/.test(context.query.cursor) ? context.query.cursor : undefined;
  const [rows, totals, currencies, products] = await Promise.all([
    findInvoices(db, { ...filter, beforeId: before }, PAGE_SIZE),
    invoiceTotals(db, filter),
    invoiceCurrencies(db, productId),
    listProducts(db, context.principal, undefined, 200),
  ]);
  const next = rows.length > PAGE_SIZE ? (rows[PAGE_SIZE - 1]?.id ?? null) : null;
  const option = (value: string, current: string | undefined, label = value) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const form = html`<form class="row" method="get" action="/console/invoices">
<div><label for="inv-status">Status</label><select id="inv-status" name="status">${option('', query.status, 'Any status')}${INVOICE_STATUSES.map((status) => option(status, query.status))}</select></div>
<div><label for="inv-currency">Currency</label><select id="inv-currency" name="currency">${option('', query.currency, 'Any currency')}${currencies.map((currency) => option(currency, query.currency))}</select></div>
${context.principal.productId ? '' : html`<div><label for="inv-product">Product</label><select id="inv-product" name="product">${option('', query.product, 'All products')}${products.items.map((product) => option(product.name, query.product, product.display_name))}</select></div>`}
${query.tenant ? html`<input type="hidden" name="tenant" value="${query.tenant}">` : ''}<button type="submit">Filter</button></form>`;
  const summary = totals.length
    ? html`<table><caption>Totals per currency</caption><thead><tr><th scope="col">Currency</th><th scope="col" class="num">Invoices</th><th scope="col" class="num">Invoiced (not void)</th><th scope="col" class="num">Open and due</th></tr></thead><tbody>${totals.map(
        (row) =>
          html`<tr><td>${row.currency}</td><td class="num">${row.count}</td><td class="num">${money(Number(row.total ?? 0), row.currency)}</td><td class="num">${money(Number(row.due ?? 0), row.currency)}</td></tr>`,
      )}</tbody></table>`
    : '';
  const list = rows.length
    ? html`<table><caption class="muted">Invoices, newest first</caption><thead><tr><th scope="col">Invoice</th><th scope="col">Tenant</th><th scope="col">Status</th><th scope="col" class="num">Total</th><th scope="col" class="num">Due</th><th scope="col">Created</th></tr></thead><tbody>${rows
        .slice(0, PAGE_SIZE)
        .map(
          (row) =>
            html`<tr><td><a href="/console/invoices/${row.id}">${invoiceName(row)}</a></td><td><a href="/console/tenants/${row.tenant_id}?tab=billing">${row.tenant_name}</a></td><td>${statusBadge(row.status)}</td><td class="num">${money(Number(row.total_minor), row.currency)}</td><td class="num">${money(Math.max(0, Number(row.total_minor) - Number(row.paid_minor)), row.currency)}</td><td>${when(row.created_at)}</td></tr>`,
        )}</tbody></table>${pager('/console/invoices', query, next)}`
    : empty('No invoices match.');
  return { title: 'Invoices', section: 'invoices', body: html`<h1>Invoices</h1>${form}${summary}${list}` };
}

async function invoicePage(context: ConsoleContext) {
  const { db } = context.services;
  const invoice = await toInvoiceDetail(db, await getVisibleInvoice(db, context.principal, context.params.invoice ?? ''));
  const name = invoiceName(invoice);
  const base = `/console/invoices/${invoice.id}`;
  const sources = [...new Set(invoice.lines.map((line) => line.kind))];
  const lines = sources.map(
    (kind) =>
      html`<h2>Lines: ${kind}</h2><table><thead><tr><th scope="col">Description</th><th scope="col">Source</th><th scope="col">Quantity</th><th scope="col">Period</th><th scope="col" class="num">Amount</th></tr></thead><tbody>${invoice.lines
        .filter((line) => line.kind === kind)
        .map(
          (line) =>
            html`<tr><td>${line.description}</td><td class="mono">${line.source}</td><td>${line.quantity}</td><td>${line.periodStart ? html`${when(line.periodStart)} → ${when(line.periodEnd)}` : '—'}</td><td class="num">${money(line.amount, line.currency)}</td></tr>`,
        )}</tbody></table>`,
  );
  const actions = html`${invoice.status === 'draft' ? html`<div class="actions">${postButton(`${base}/finalize`, 'Finalize (number it)', context.csrf)}</div>` : ''}
${
  invoice.status === 'open' && invoice.due > 0
    ? html`<h2>Record a payment</h2><form class="row" method="post" action="${base}/payments">${csrfField(context.csrf)}
<div><label for="pay-amount">Amount (minor units)</label><input id="pay-amount" name="amount" inputmode="numeric" value="${invoice.due}" required></div>
<div><label for="pay-provider">Provider</label><input id="pay-provider" name="provider" value="manual" required></div>
<div><label for="pay-reference">Reference</label><input id="pay-reference" name="reference" required maxlength="200"></div>
<button type="submit">Record the payment</button></form>`
    : ''
}
${['draft', 'open'].includes(invoice.status) && invoice.paid === 0 ? html`<h2>Void</h2>${confirmForm(`${base}/void`, name, 'Void', context.csrf)}` : ''}`;
  const body = html`<p><a href="/console/invoices">Invoices</a> › ${name}</p><h1>${name} ${statusBadge(invoice.status)}</h1>
<dl class="facts"><dt>Tenant</dt><dd><a href="/console/tenants/${invoice.tenantId}?tab=billing">${invoice.tenantId}</a></dd><dt>Total</dt><dd>${money(invoice.total, invoice.currency)}</dd>
<dt>Paid</dt><dd>${money(invoice.paid, invoice.currency)}</dd><dt>Due</dt><dd>${money(invoice.due, invoice.currency)}</dd>
<dt>Finalized</dt><dd>${when(invoice.finalizedAt)}</dd><dt>Created</dt><dd>${when(invoice.createdAt)}</dd></dl>
${lines.length ? lines : empty('No lines.')}
<h2>Payments</h2>${
    invoice.payments.length
      ? html`<table><thead><tr><th scope="col">Received</th><th scope="col">Provider</th><th scope="col">Reference</th><th scope="col" class="num">Amount</th></tr></thead><tbody>${invoice.payments.map(
          (payment) =>
            html`<tr><td>${when(payment.receivedAt)}</td><td>${payment.provider}</td><td>${payment.reference}</td><td class="num">${money(payment.amount, payment.currency)}</td></tr>`,
        )}</tbody></table>`
      : empty('No payments.')
  }${actions}`;
  return { title: name, section: 'invoices', body };
}

/** Invoices: filtered by status, currency and product with totals per currency; an invoice's lines; finalize, void, pay. */
export function registerInvoicePages(router: ConsoleRouter): void {
  router.page('/console/invoices', invoiceList);
  router.page('/console/invoices/:invoice', invoicePage);
  const back = (id: string) => `/console/invoices/${id}`;
  router.action('/console/invoices/:invoice/finalize', async (context) => {
    const { db, clock } = context.services;
    const row = await db.transaction().execute((tx) => finalizeInvoice(tx, { clock }, context.caller, context.params.invoice ?? ''));
    return { redirect: back(row.id), notice: 'done' };
  });
  router.action('/console/invoices/:invoice/void', async (context) => {
    const { db, clock } = context.services;
    requireConfirmation(context, invoiceName(await getVisibleInvoice(db, context.principal, context.params.invoice ?? '')));
    const row = await db.transaction().execute((tx) => voidInvoice(tx, { clock }, context.caller, context.params.invoice ?? ''));
    return { redirect: back(row.id), notice: 'done' };
  });
  router.action('/console/invoices/:invoice/payments', async (context) => {
    const body = formBody<PaymentBody>(PaymentCreate, context.form, { amount: 'integer', provider: 'text', reference: 'text' });
    const { db, clock } = context.services;
    const result = await db.transaction().execute((tx) => recordPayment(tx, { clock }, context.caller, context.params.invoice ?? '', body));
    return { redirect: back(result.invoice.id), notice: 'done' };
  });
}
