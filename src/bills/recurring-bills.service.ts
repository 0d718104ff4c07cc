import type { Caller, Principal } from '../access/principal.ts';
import { requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { insertBill, insertRecurringBill, type RecurringBillRecord, recurringBillQuery } from './bills.repo.ts';
import type { RecurringBillView } from './bills.schemas.ts';
import { BILL_WRITERS, billCurrency } from './bills.service.ts';
import { parsePeriod, recurrenceProblem } from './recurrence.ts';

const MAX_BACKDATE_MS = 24 * 3600 * 1000;

/** What a new recurring bill says, whichever API it came through. */
export interface RecurringBillInput {
  priceCents: number;
  currency?: string;
  description: string;
  period: string;
  frequency?: number;
  cycles?: number | null;
  startDate?: string;
  initialCents?: number;
}

/** The native view of a recurring bill. */
export function toRecurringBillView(row: RecurringBillRecord): RecurringBillView {
  return {
    id: row.id,
    uid: `rbill-${row.number}`,
    tenant: { id: row.tenant_id, name: row.tenant_name },
    priceCents: Number(row.price_cents),
    currency: row.currency,
    description: row.description,
    period: row.period,
    frequency: row.frequency,
    cycles: row.cycles,
    initialCents: Number(row.initial_cents),
    startDate: row.start_at.toISOString(),
    status: row.status as RecurringBillView['status'],
    lastExecutionAt: row.last_execution_at?.toISOString() ?? null,
    nextExecutionAt: row.next_execution_at?.toISOString() ?? null,
    remainingCycles: row.cycles === null ? null : row.cycles - row.executions,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Starts a recurring bill (status `submitted` until its first execution): period × frequency
 * at most a year, SemiMonth only with frequency 1. `initialCents` is billed once now, as a
 * bill of its own, not a cycle.
 */
export async function createRecurringBill(
  db: Db,
  clock: Clock,
  caller: Caller,
  tenant: { id: string; product_id: string },
  input: RecurringBillInput,
): Promise<RecurringBillRecord> {
  requireRole(caller.principal, ...BILL_WRITERS);
  const period = parsePeriod(input.period);
  if (!period)
    throw new AppError('request.invalid', { message: 'period must be Day, Week, SemiMonth, Month or Year', parameter: 'period' });
  const frequency = input.frequency ?? 1;
  const problem = recurrenceProblem(period, frequency);
  if (problem) throw new AppError('request.invalid', { message: problem, parameter: 'frequency' });
  const now = clock.now();
  const start = input.startDate === undefined ? now : new Date(input.startDate);
  if (Number.isNaN(start.getTime()))
    throw new AppError('request.invalid', { message: 'startDate is not a date-time', parameter: 'startDate' });
  // A start far in the past would bill a long history at once, which nobody asks for on purpose.
  if (start.getTime() < now.getTime() - MAX_BACKDATE_MS)
    throw new AppError('request.invalid', { message: 'startDate may be at most 24 hours in the past', parameter: 'startDate' });
  const currency = await billCurrency(db, tenant.id, input.currency);
  const id = newId();
  const initialCents = input.initialCents ?? 0;
  await insertRecurringBill(db, {
    id,
    product_id: tenant.product_id,
    tenant_id: tenant.id,
    price_cents: input.priceCents,
    currency,
    description: input.description,
    period,
    frequency,
    cycles: input.cycles ?? null,
    initial_cents: initialCents,
    start_at: start,
    status: 'submitted',
    next_execution_at: start,
    created_at: now,
    updated_at: now,
  });
  if (initialCents > 0) {
    await insertBill(db, {
      id: newId(),
      product_id: tenant.product_id,
      tenant_id: tenant.id,
      price_cents: initialCents,
      currency,
      description: `${input.description} (initial charge)`,
      status: 'submitted',
      recurring_bill_id: id,
      execution: null,
      created_at: now,
      updated_at: now,
    });
  }
  const row = await requireRecurringBill(db, caller.principal, id);
  await insertAuditRecord(db, caller.actor, {
    action: 'recurring_bill.create',
    objectType: 'recurring_bill',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: toRecurringBillView(row),
  });
  return row;
}

/** A recurring bill by id or `rbill-<n>` the caller may see (404 otherwise), locked when asked. */
export async function requireRecurringBill(db: Db, principal: Principal, ref: string, options: { lock?: boolean; tenantId?: string } = {}) {
  const digits = /^rbill-([1-9][0-9]{0,14})$/.exec(ref)?.[1];
  const number = digits ? Number(digits) : undefined;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(ref);
  let query = recurringBillQuery(db);
  query = number
    ? query.where('recurring_bills.number', '=', number)
    : query.where('recurring_bills.id', '=', uuid ? ref : '00000000-0000-0000-0000-000000000000');
  if (principal.productId) query = query.where('recurring_bills.product_id', '=', principal.productId);
  if (principal.kind === 'marketplace') query = query.where('g.marketplace_id', '=', principal.id);
  if (options.tenantId) query = query.where('recurring_bills.tenant_id', '=', options.tenantId);
  if (options.lock) query = query.forUpdate('recurring_bills');
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('recurring_bill.not_found', { message: `No recurring bill "${ref}"`, parameter: 'recurringBill' });
  return row;
}

/** Cancels a recurring bill: no execution follows (a cancelled one is answered as it is); an expired one is 409. */
export async function cancelRecurringBill(db: Db, clock: Clock, caller: Caller, ref: string, options: { tenantId?: string } = {}) {
  requireRole(caller.principal, ...BILL_WRITERS);
  const current = await requireRecurringBill(db, caller.principal, ref, { ...options, lock: true });
  if (current.status === 'cancelled') return current;
  if (current.status === 'expired') throw new AppError('recurring_bill.not_cancellable', { parameter: 'recurringBill' });
  await db.updateTable('recurring_bills').set({ status: 'cancelled', updated_at: clock.now() }).where('id', '=', current.id).execute();
  const row = await requireRecurringBill(db, caller.principal, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'recurring_bill.cancel',
    objectType: 'recurring_bill',
    objectId: current.id,
    productId: current.product_id,
    tenantId: current.tenant_id,
    before: toRecurringBillView(current),
    after: toRecurringBillView(row),
  });
  return row;
}

/** The recurring bills the caller may see, oldest first (`limit + 1` rows after `afterNumber`). */
export async function findRecurringBills(
  db: Db,
  principal: Principal,
  filter: { tenantId?: string; afterNumber?: number; limit: number },
): Promise<RecurringBillRecord[]> {
  let query = recurringBillQuery(db)
    .orderBy('recurring_bills.number')
    .limit(filter.limit + 1);
  if (principal.productId) query = query.where('recurring_bills.product_id', '=', principal.productId);
  if (principal.kind === 'marketplace') query = query.where('g.marketplace_id', '=', principal.id);
  if (filter.tenantId) query = query.where('recurring_bills.tenant_id', '=', filter.tenantId);
  if (filter.afterNumber) query = query.where('recurring_bills.number', '>', filter.afterNumber);
  return query.execute();
}
