import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.ts';
import { type BillingDeps, cancelBill, createBillFor } from '../billing/bills.service.ts';
import { cancelRecurringBill, createRecurringBill } from '../billing/recurring-bills.service.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { HttpApp } from '../http/types.ts';
import { marketplaceBillQuery, marketplaceRecurringBillQuery } from './account-bills.repo.ts';
import { FieldReader } from './account-input.ts';
import {
  accountCaller,
  billableGroup,
  chargeableGroup,
  doesNotExist,
  groupStillChargeable,
  notChargeable,
  success,
} from './account-support.ts';
import { accountBill, accountRecurringBill } from './account-views.ts';
import { numberOf } from './maestrano-format.ts';

type Query = Record<string, string | undefined>;
const marketplaceOf = (request: FastifyRequest) => (request.principal as Principal).id;

// The list filter `group_id`, as a group number (0 matches nothing).
const groupFilter = (request: FastifyRequest) => {
  const uid = (request.query as Query).group_id;
  return uid === undefined ? undefined : (numberOf('cld', uid) ?? 0);
};

/**
 * `bills` and `recurring_bills` of the account API: the product's own bills and recurring
 * bills (`src/billing`, issue #10), made and cancelled by its services, shown in Maestrano's
 * shapes under their `bill-<n>` / `rbill-<n>` numbers; a marketplace sees its groups' only.
 */
export function registerAccountBillRoutes(app: HttpApp, db: Db, deps: BillingDeps): void {
  const readBill = async (dbOrTx: Db, request: FastifyRequest, uid: string) => {
    const number = numberOf('bill', uid);
    const row = number
      ? await marketplaceBillQuery(dbOrTx, marketplaceOf(request)).where('bills.number', '=', number).executeTakeFirst()
      : undefined;
    if (!row) throw doesNotExist();
    return row;
  };
  const readRecurring = async (dbOrTx: Db, request: FastifyRequest, uid: string) => {
    const number = numberOf('rbill', uid);
    const row = number
      ? await marketplaceRecurringBillQuery(dbOrTx, marketplaceOf(request)).where('recurring_bills.number', '=', number).executeTakeFirst()
      : undefined;
    if (!row) throw doesNotExist();
    return row;
  };

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
    // Two statements and no transaction: the group with everything the bill needs, then the write, which
    // re-checks the group under its lock (deleted meanwhile: nothing is written, and the answer is the same 400).
    const principal = request.principal as Principal;
    const group = await billableGroup(db, principal, groupId);
    const tenant = { id: group.tenant_id, product_id: group.product_id, status: group.status };
    const bill = await createBillFor(
      db,
      deps,
      accountCaller(request),
      tenant,
      { ...input, currency: input.currency ?? group.currency },
      { context: group, guard: groupStillChargeable(principal, group.tenant_id) },
    ).catch((error) => {
      throw error instanceof AppError && error.code === 'tenant.deleted' ? notChargeable() : error;
    });
    // The bill as written (its number included) and the group it was charged to: no read back.
    const row = { ...bill, group_number: group.number };
    return reply.code(201).send(success(accountBill(row)));
  });

  app.get('/bills', async (request) => {
    const group = groupFilter(request);
    let query = marketplaceBillQuery(db, marketplaceOf(request)).orderBy('bills.number');
    if (group !== undefined) query = query.where('g.number', '=', group);
    return success((await query.execute()).map(accountBill));
  });

  app.get<{ Params: { id: string } }>('/bills/:id', async (request) =>
    success(accountBill(await readBill(db, request, request.params.id))),
  );

  app.delete<{ Params: { id: string } }>('/bills/:id', async (request) => {
    const row = await db.transaction().execute(async (tx) => {
      const bill = await readBill(tx, request, request.params.id);
      await cancelBill(tx, deps, accountCaller(request), bill.id);
      return readBill(tx, request, request.params.id);
    });
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
      const group = await chargeableGroup(tx, request.principal as Principal, groupId);
      const created = await createRecurringBill(tx, deps, accountCaller(request), group.tenant_id, {
        ...input,
        currency: input.currency ?? group.currency,
      });
      return readRecurring(tx, request, `rbill-${created.number}`);
    });
    return reply.code(201).send(success(accountRecurringBill(row)));
  });

  app.get('/recurring_bills', async (request) => {
    const group = groupFilter(request);
    let query = marketplaceRecurringBillQuery(db, marketplaceOf(request)).orderBy('recurring_bills.number');
    if (group !== undefined) query = query.where('g.number', '=', group);
    return success((await query.execute()).map(accountRecurringBill));
  });

  app.get<{ Params: { id: string } }>('/recurring_bills/:id', async (request) =>
    success(accountRecurringBill(await readRecurring(db, request, request.params.id))),
  );

  app.delete<{ Params: { id: string } }>('/recurring_bills/:id', async (request) => {
    const row = await db.transaction().execute(async (tx) => {
      const recurring = await readRecurring(tx, request, request.params.id);
      await cancelRecurringBill(tx, deps, accountCaller(request), recurring.id);
      return readRecurring(tx, request, request.params.id);
    });
    return success(accountRecurringBill(row));
  });
}
