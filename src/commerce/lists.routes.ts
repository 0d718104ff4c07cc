import type { Db } from '../db/database.ts';
import { errors, listEnvelope, okPage } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import {
  InvoiceSearchQuery,
  InvoiceSummary,
  invoiceTags,
  Subscription,
  SubscriptionListQuery,
  subscriptionTags,
} from './commerce.schemas.ts';
import { toInvoiceView } from './invoices.service.ts';
import { listInvoices, listSubscriptions } from './lists.ts';
import { toSubscriptionView } from './subscriptions.service.ts';

/** `GET /v1/subscriptions` and `GET /v1/invoices`: filtered, cursor-paginated lists across tenants. */
export function registerCommerceListRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.get(
    '/v1/subscriptions',
    {
      schema: {
        tags: subscriptionTags,
        summary: 'List subscriptions',
        description:
          'Operators see every product’s, a product’s client its own. Newest first; filter by product, status, `renewingBefore`, `pastDue`; pages follow `metadata.pagination.nextCursor`.',
        querystring: SubscriptionListQuery,
        response: { 200: listEnvelope(Subscription), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const limit = request.query.limit ?? 50;
      const page = await listSubscriptions(db, principal, { ...request.query, limit });
      return okPage(
        page.items.map((row) => toSubscriptionView(row, principal)),
        page.nextCursor,
        limit,
      );
    },
  );

  app.get(
    '/v1/invoices',
    {
      schema: {
        tags: invoiceTags,
        summary: 'List invoices',
        description:
          'Operators see every product’s, a product’s client its own. Newest first; filter by product, tenant, status, currency, `overdue`; pages follow `metadata.pagination.nextCursor`.',
        querystring: InvoiceSearchQuery,
        response: { 200: listEnvelope(InvoiceSummary), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listInvoices(db, principalOf(request), deps.clock.now(), { ...request.query, limit });
      return okPage(page.items.map(toInvoiceView), page.nextCursor, limit);
    },
  );
}
