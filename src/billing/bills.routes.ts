import { type Static, Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { decodeCursor, PageQuery, UUID_KEY } from '../http/pagination.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import {
  Bill,
  BillCreate,
  BillListQuery,
  BillParams,
  RecurringBill,
  RecurringBillCreate,
  RecurringBillParams,
  TenantParams,
  billTags as tags,
} from './bills.schemas.ts';
import { type BillingDeps, cancelBill, createBill, getVisibleBill, listBills } from './bills.service.ts';
import { billView, recurringBillView } from './bills.view.ts';
import { cancelRecurringBill, createRecurringBill, getVisibleRecurringBill, listRecurringBills } from './recurring-bills.service.ts';

const ListQuery = Type.Object({ ...PageQuery, ...BillListQuery }, { additionalProperties: false });

// Both lists read the same query: a status, a cursor (a bad one is a 400 before anything is read) and a limit.
function listQueryOf(query: Static<typeof ListQuery>) {
  return { status: query.status, beforeId: decodeCursor(query.cursor, UUID_KEY), limit: query.limit ?? 50 };
}

/** Bills and recurring bills: `/v1/tenants/{tenant}/bills`, `/v1/bills/{bill}`, and the same for recurring bills. */
export function registerBillRoutes(app: HttpApp, db: Db, deps: BillingDeps): void {
  app.post(
    '/v1/tenants/:tenant/bills',
    {
      schema: {
        tags,
        summary: 'Bill a tenant once',
        description: "Operators and the product's clients. The bill goes on the tenant's next invoice.",
        params: TenantParams,
        body: BillCreate,
        response: { 201: envelope(Bill), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      // One statement writes the bill, its audit record and its event: no transaction needed around it.
      const bill = await createBill(db, deps, callerOf(request), request.params.tenant, request.body);
      return reply.code(201).send(ok(billView(bill)));
    },
  );

  app.get(
    '/v1/tenants/:tenant/bills',
    {
      schema: {
        tags,
        summary: "List a tenant's bills",
        params: TenantParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(Bill), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const query = listQueryOf(request.query);
      const page = await listBills(db, principalOf(request), request.params.tenant, query);
      return okPage(page.items.map(billView), page.nextCursor, query.limit);
    },
  );

  app.get(
    '/v1/bills/:bill',
    { schema: { tags, summary: 'Get a bill', params: BillParams, response: { 200: envelope(Bill), ...errors(401, 404, 429) } } },
    async (request) => ok(billView(await getVisibleBill(db, principalOf(request), request.params.bill))),
  );

  app.delete(
    '/v1/bills/:bill',
    {
      schema: {
        tags,
        summary: 'Cancel a bill',
        description: 'Answers the bill, cancelled. A bill already on an invoice cannot be cancelled (409).',
        params: BillParams,
        response: { 200: envelope(Bill), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => ok(billView(await db.transaction().execute((tx) => cancelBill(tx, deps, callerOf(request), request.params.bill)))),
  );

  app.post(
    '/v1/tenants/:tenant/recurring-bills',
    {
      schema: {
        tags,
        summary: 'Bill a tenant periodically',
        description:
          'Execution k is due at startDate + k × frequency × period on the billing calendar and makes one bill, exactly once. `initialCents` is billed once at creation.',
        params: TenantParams,
        body: RecurringBillCreate,
        response: { 201: envelope(RecurringBill), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => createRecurringBill(tx, deps, callerOf(request), request.params.tenant, request.body));
      return reply.code(201).send(ok(recurringBillView(row)));
    },
  );

  app.get(
    '/v1/tenants/:tenant/recurring-bills',
    {
      schema: {
        tags,
        summary: "List a tenant's recurring bills",
        params: TenantParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(RecurringBill), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const query = listQueryOf(request.query);
      const page = await listRecurringBills(db, principalOf(request), request.params.tenant, query);
      return okPage(page.items.map(recurringBillView), page.nextCursor, query.limit);
    },
  );

  app.get(
    '/v1/recurring-bills/:recurringBill',
    {
      schema: {
        tags,
        summary: 'Get a recurring bill',
        params: RecurringBillParams,
        response: { 200: envelope(RecurringBill), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(recurringBillView(await getVisibleRecurringBill(db, principalOf(request), request.params.recurringBill))),
  );

  app.delete(
    '/v1/recurring-bills/:recurringBill',
    {
      schema: {
        tags,
        summary: 'Cancel a recurring bill',
        description: 'No execution follows; answers the recurring bill, cancelled. An expired one is 409.',
        params: RecurringBillParams,
        response: { 200: envelope(RecurringBill), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) =>
      ok(
        recurringBillView(
          await db.transaction().execute((tx) => cancelRecurringBill(tx, deps, callerOf(request), request.params.recurringBill)),
        ),
      ),
  );
}
