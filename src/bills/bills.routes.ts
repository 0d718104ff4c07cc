import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { decodeCursor, PageQuery, SERIAL_KEY, toPage } from '../http/pagination.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { Bill, BillCreate, RecurringBill, RecurringBillCreate } from './bills.schemas.ts';
import { cancelBill, createBill, findBills, requireBill, toBillView } from './bills.service.ts';
import {
  cancelRecurringBill,
  createRecurringBill,
  findRecurringBills,
  requireRecurringBill,
  toRecurringBillView,
} from './recurring-bills.service.ts';

const tags = ['Bills'];
const WHO = 'Operators of the tenant’s product and its client.';
const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const TenantParams = Type.Object({ tenant: Ref('Tenant id or name') });
const BillParams = Type.Object({ tenant: Ref('Tenant id or name'), bill: Ref('Bill id or `bill-<n>`') });
const RecurringParams = Type.Object({ tenant: Ref('Tenant id or name'), bill: Ref('Recurring bill id or `rbill-<n>`') });
// The position after a list's last bill number, from its cursor.
const cursorNumber = (cursor: string | undefined) => {
  const key = decodeCursor(cursor, SERIAL_KEY);
  return key === undefined ? undefined : Number(key);
};
const ListQuery = Type.Object(PageQuery, { additionalProperties: false });

/** `/v1/tenants/{tenant}/bills` and `…/recurring-bills`: one-off and periodic charges of a tenant. */
export function registerBillRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/tenants/:tenant/bills',
    {
      schema: {
        tags,
        summary: 'Bill a tenant once',
        description: `${WHO} The bill is \`submitted\` and goes on the tenant’s next invoice.`,
        params: TenantParams,
        body: BillCreate,
        response: { 201: envelope(Bill), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute(async (tx) => {
        const tenant = await getVisibleTenant(tx, principalOf(request), request.params.tenant, { lock: true });
        return createBill(tx, deps.clock, callerOf(request), tenant, request.body);
      });
      return reply.code(201).send(ok(toBillView(row)));
    },
  );

  app.get(
    '/v1/tenants/:tenant/bills',
    {
      schema: {
        tags,
        summary: 'List a tenant’s bills',
        description: WHO,
        params: TenantParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(Bill), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      const limit = request.query.limit ?? 50;
      const rows = await findBills(db, principalOf(request), {
        tenantId: tenant.id,
        afterNumber: cursorNumber(request.query.cursor),
        limit,
      });
      const page = toPage(rows, limit, (row) => row.number);
      return okPage(page.items.map(toBillView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/tenants/:tenant/bills/:bill',
    {
      schema: {
        tags,
        summary: 'Get a bill',
        description: WHO,
        params: BillParams,
        response: { 200: envelope(Bill), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      return ok(toBillView(await requireBill(db, principalOf(request), request.params.bill, { tenantId: tenant.id })));
    },
  );

  app.post(
    '/v1/tenants/:tenant/bills/:bill/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a bill',
        description: `${WHO} Only a submitted bill can be cancelled (an invoiced one is 409); the answer is the cancelled bill.`,
        params: BillParams,
        response: { 200: envelope(Bill), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const row = await db.transaction().execute(async (tx) => {
        const tenant = await getVisibleTenant(tx, principalOf(request), request.params.tenant);
        return cancelBill(tx, deps.clock, callerOf(request), request.params.bill, { tenantId: tenant.id });
      });
      return ok(toBillView(row));
    },
  );

  app.post(
    '/v1/tenants/:tenant/recurring-bills',
    {
      schema: {
        tags,
        summary: 'Bill a tenant periodically',
        description: `${WHO} Execution k is due at startDate + k × frequency × period; each makes one bill. period × frequency is at most a year; SemiMonth (the 1st and the 15th) only with frequency 1.`,
        params: TenantParams,
        body: RecurringBillCreate,
        response: { 201: envelope(RecurringBill), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute(async (tx) => {
        const tenant = await getVisibleTenant(tx, principalOf(request), request.params.tenant, { lock: true });
        return createRecurringBill(tx, deps.clock, callerOf(request), tenant, request.body);
      });
      return reply.code(201).send(ok(toRecurringBillView(row)));
    },
  );

  app.get(
    '/v1/tenants/:tenant/recurring-bills',
    {
      schema: {
        tags,
        summary: 'List a tenant’s recurring bills',
        description: WHO,
        params: TenantParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(RecurringBill), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      const limit = request.query.limit ?? 50;
      const rows = await findRecurringBills(db, principalOf(request), {
        tenantId: tenant.id,
        afterNumber: cursorNumber(request.query.cursor),
        limit,
      });
      const page = toPage(rows, limit, (row) => row.number);
      return okPage(page.items.map(toRecurringBillView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/tenants/:tenant/recurring-bills/:bill',
    {
      schema: {
        tags,
        summary: 'Get a recurring bill',
        description: WHO,
        params: RecurringParams,
        response: { 200: envelope(RecurringBill), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      return ok(toRecurringBillView(await requireRecurringBill(db, principalOf(request), request.params.bill, { tenantId: tenant.id })));
    },
  );

  app.post(
    '/v1/tenants/:tenant/recurring-bills/:bill/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a recurring bill',
        description: `${WHO} No execution follows; an expired one is 409.`,
        params: RecurringParams,
        response: { 200: envelope(RecurringBill), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const row = await db.transaction().execute(async (tx) => {
        const tenant = await getVisibleTenant(tx, principalOf(request), request.params.tenant);
        return cancelRecurringBill(tx, deps.clock, callerOf(request), request.params.bill, { tenantId: tenant.id });
      });
      return ok(toRecurringBillView(row));
    },
  );
}
