import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { setETag } from '../http/etag.ts';
import { decodeCursor, UUID_KEY } from '../http/pagination.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import {
  Invoice,
  InvoiceListQuery,
  InvoiceParams,
  InvoiceSummary,
  PaymentCreate,
  PaymentResult,
  TenantParams,
  invoiceTags as tags,
} from './commerce.schemas.ts';
import {
  finalizeInvoice,
  getVisibleInvoice,
  listTenantInvoices,
  recordPayment,
  toInvoiceDetail,
  toInvoiceView,
  voidInvoice,
} from './invoices.service.ts';
import type { CommerceDeps } from './subscriptions.service.ts';

/** `/v1/tenants/{tenant}/invoices` and `/v1/invoices/{invoice}`: invoices, finalization, voiding, payments. */
export function registerInvoiceRoutes(app: HttpApp, db: Db, deps: CommerceDeps): void {
  app.get(
    '/v1/tenants/:tenant/invoices',
    {
      schema: {
        tags,
        summary: 'List a tenant’s invoices',
        description: 'Newest first; filter by status.',
        params: TenantParams,
        querystring: InvoiceListQuery,
        response: { 200: listEnvelope(InvoiceSummary), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listTenantInvoices(db, principalOf(request), request.params.tenant, {
        status: request.query.status,
        beforeId: decodeCursor(request.query.cursor, UUID_KEY),
        limit,
      });
      return okPage(page.items.map(toInvoiceView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/invoices/:invoice',
    {
      schema: {
        tags,
        summary: 'Get an invoice',
        description: 'With its lines and payments.',
        params: InvoiceParams,
        response: { 200: envelope(Invoice), ...errors(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const row = await getVisibleInvoice(db, principalOf(request), request.params.invoice);
      setETag(reply, row);
      return ok(await toInvoiceDetail(db, row));
    },
  );

  for (const [action, summary, description, run] of [
    [
      'finalize',
      'Finalize a draft invoice',
      'Draft → open: it takes the product’s next invoice number (no gaps) and can no longer change. A total of 0 is paid at once.',
      finalizeInvoice,
    ],
    ['void', 'Void an invoice', 'A draft, or an open invoice without payments, becomes void; its number (if any) stays used.', voidInvoice],
  ] as const) {
    app.post(
      `/v1/invoices/:invoice/${action}`,
      {
        schema: {
          tags,
          summary,
          description,
          params: InvoiceParams,
          response: { 200: envelope(Invoice), ...errors(401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const row = await db.transaction().execute(async (tx) => {
          const changed = await run(tx, deps, callerOf(request), request.params.invoice);
          return { changed, detail: await toInvoiceDetail(tx, changed) };
        });
        setETag(reply, row.changed);
        return ok(row.detail);
      },
    );
  }

  app.post(
    '/v1/invoices/:invoice/payments',
    {
      schema: {
        tags,
        summary: 'Record a payment',
        description:
          'Landlord charges no cards: this records a payment the product (or its provider) took. Idempotent on provider + reference (the same payment again answers 200 with `replayed`); partial payments add up; the invoice is paid once covered.',
        params: InvoiceParams,
        body: PaymentCreate,
        response: { 201: envelope(PaymentResult), 200: envelope(PaymentResult), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const result = await db
        .transaction()
        .execute((tx) => recordPayment(tx, deps, callerOf(request), request.params.invoice, request.body));
      setETag(reply, result.invoice);
      return reply.code(result.replayed ? 200 : 201).send(ok({ ...result, invoice: toInvoiceView(result.invoice) }));
    },
  );
}
