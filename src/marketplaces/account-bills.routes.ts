import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.ts';
import { cancelBill, createBill, findBills, requireBill } from '../bills/bills.service.ts';
import { cancelRecurringBill, createRecurringBill, findRecurringBills, requireRecurringBill } from '../bills/recurring-bills.service.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { FieldReader } from './account-input.ts';
import { accountCaller, chargeableGroup, doesNotExist, success } from './account-support.ts';
import { accountBill, accountRecurringBill } from './account-views.ts';
import { numberOf } from './maestrano-format.ts';

type Query = Record<string, string | undefined>;
const principalOf = (request: FastifyRequest) => request.principal as Principal;

// The list filter `group_id`: the group's tenant, or a tenant that matches nothing.
async function groupFilter(db: Db, request: FastifyRequest): Promise<string | undefined> {
  const uid = (request.query as Query).group_id;
  if (uid === undefined) return undefined;
  const row = await db
    .selectFrom('marketplace_groups')
    .select('tenant_id')
    .where('marketplace_id', '=', principalOf(request).id)
    .where('number', '=', numberOf('cld', uid) ?? 0)
    .executeTakeFirst();
  return row?.tenant_id ?? '00000000-0000-0000-0000-000000000000';
}

// An unknown id of the marketplace's is 404 `{"id": ["does not exist"]}`.
async function orNotFound<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.status === 404) throw doesNotExist();
    throw error;
  }
}

/** `bills` and `recurring_bills` of the account API: the product's native bills, in Maestrano's shapes. */
export function registerAccountBillRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post('/bills', async (request, reply) => {
    const fields = new FieldReader(request.body);
    const groupId = fields.string('group_id', { required: true, max: 40 });
    const input = {
      priceCents: fields.integer('price_cents', { required: true, min: 0, max: 1e15 }),
      description: fields.string('description', { required: true }),
      currency: fields.currency('currency'),
      units: fields.positive('units'),
      periodStartedAt: fields.dateTime('period_started_at'),
      periodEndedAt: fields.dateTime('period_ended_at'),
    };
    fields.check();
    const row = await db.transaction().execute(async (tx) => {
      const group = await chargeableGroup(tx, principalOf(request), groupId);
      const tenant = { id: group.tenant_id, product_id: group.product_id };
      return createBill(tx, deps.clock, accountCaller(request), tenant, { ...input, currency: input.currency ?? group.currency });
    });
    return reply.code(201).send(success(accountBill(row)));
  });

  app.get('/bills', async (request) => {
    const tenantId = await groupFilter(db, request);
    const rows = await findBills(db, principalOf(request), { tenantId, limit: 10_000 });
    return success(rows.map(accountBill));
  });

  app.get<{ Params: { id: string } }>('/bills/:id', async (request) =>
    success(accountBill(await orNotFound(() => requireBill(db, principalOf(request), request.params.id)))),
  );

  app.delete<{ Params: { id: string } }>('/bills/:id', async (request) => {
    const row = await orNotFound(() =>
      db.transaction().execute((tx) => cancelBill(tx, deps.clock, accountCaller(request), request.params.id)),
    );
    return success(accountBill(row));
  });

  app.post('/recurring_bills', async (request, reply) => {
    const fields = new FieldReader(request.body);
    const groupId = fields.string('group_id', { required: true, max: 40 });
    const input = {
      priceCents: fields.integer('price_cents', { required: true, min: 0, max: 1e15 }),
      description: fields.string('description', { required: true }),
      period: fields.string('period', { required: true, max: 20 }),
      frequency: fields.integer('frequency', { min: 1, max: 366 }),
      cycles: fields.integer('cycles', { min: 1, max: 100_000 }),
      startDate: fields.dateTime('start_date'),
      currency: fields.currency('currency'),
      initialCents: fields.integer('initial_cents', { min: 0, max: 1e15 }),
    };
    fields.check();
    const row = await db.transaction().execute(async (tx) => {
      const group = await chargeableGroup(tx, principalOf(request), groupId);
      const tenant = { id: group.tenant_id, product_id: group.product_id };
      return createRecurringBill(tx, deps.clock, accountCaller(request), tenant, { ...input, currency: input.currency ?? group.currency });
    });
    return reply.code(201).send(success(accountRecurringBill(row)));
  });

  app.get('/recurring_bills', async (request) => {
    const tenantId = await groupFilter(db, request);
    const rows = await findRecurringBills(db, principalOf(request), { tenantId, limit: 10_000 });
    return success(rows.map(accountRecurringBill));
  });

  app.get<{ Params: { id: string } }>('/recurring_bills/:id', async (request) =>
    success(accountRecurringBill(await orNotFound(() => requireRecurringBill(db, principalOf(request), request.params.id)))),
  );

  app.delete<{ Params: { id: string } }>('/recurring_bills/:id', async (request) => {
    const row = await orNotFound(() =>
      db.transaction().execute((tx) => cancelRecurringBill(tx, deps.clock, accountCaller(request), request.params.id)),
    );
    return success(accountRecurringBill(row));
  });
}
