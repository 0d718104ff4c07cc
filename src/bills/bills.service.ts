import type { Caller, Principal } from '../access/principal.ts';
import { requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { type BillRecord, billQuery, defaultCurrency, insertBill } from './bills.repo.ts';
import type { BillView } from './bills.schemas.ts';

/** Who may bill: operators of the product, its backend's client, a marketplace (for its groups). */
export const BILL_WRITERS = ['super_admin', 'product_admin', 'client'] as const;

/** What a new bill says, whichever API it came through (amounts already checked non-negative). */
export interface BillInput {
  priceCents: number;
  currency?: string;
  description: string;
  units?: number | null;
  periodStartedAt?: string;
  periodEndedAt?: string;
}

/** The native view of a bill. */
export function toBillView(row: BillRecord): BillView {
  return {
    id: row.id,
    uid: `bill-${row.number}`,
    tenant: { id: row.tenant_id, name: row.tenant_name },
    priceCents: Number(row.price_cents),
    currency: row.currency,
    units: row.units === null ? null : Number(row.units),
    description: row.description,
    periodStartedAt: row.period_started_at?.toISOString() ?? null,
    periodEndedAt: row.period_ended_at?.toISOString() ?? null,
    status: row.status as BillView['status'],
    recurringBill: row.recurring_number ? `rbill-${row.recurring_number}` : null,
    execution: row.execution,
    invoiceId: row.invoice_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The currency given, or the tenant's default; none at all is a 400 naming `currency`. */
export async function billCurrency(db: Db, tenantId: string, given: string | undefined): Promise<string> {
  const currency = given ?? (await defaultCurrency(db, tenantId));
  if (!currency)
    throw new AppError('request.invalid', { message: 'The tenant has no group or subscription currency: give one', parameter: 'currency' });
  return currency;
}

function instant(value: string | undefined, parameter: string): Date | null {
  if (value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new AppError('request.invalid', { message: `"${parameter}" is not a date-time`, parameter });
  return date;
}

/**
 * Bills a tenant once (status `submitted`; it goes on the tenant's next invoice). A period
 * has both ends or neither, the end after the start.
 */
export async function createBill(
  db: Db,
  clock: Clock,
  caller: Caller,
  tenant: { id: string; product_id: string },
  input: BillInput,
): Promise<BillRecord> {
  requireRole(caller.principal, ...BILL_WRITERS);
  const started = instant(input.periodStartedAt, 'periodStartedAt');
  const ended = instant(input.periodEndedAt, 'periodEndedAt');
  if ((started === null) !== (ended === null))
    throw new AppError('request.invalid', {
      message: 'Give both ends of the period or neither',
      parameter: started ? 'periodEndedAt' : 'periodStartedAt',
    });
  if (started && ended && ended <= started)
    throw new AppError('request.invalid', { message: 'The period must end after it starts', parameter: 'periodEndedAt' });
  const currency = await billCurrency(db, tenant.id, input.currency);
  const now = clock.now();
  const id = await insertBill(db, {
    id: newId(),
    product_id: tenant.product_id,
    tenant_id: tenant.id,
    price_cents: input.priceCents,
    currency,
    description: input.description,
    units: input.units ?? null,
    period_started_at: started,
    period_ended_at: ended,
    status: 'submitted',
    created_at: now,
    updated_at: now,
  });
  const row = await requireBill(db, caller.principal, id);
  await insertAuditRecord(db, caller.actor, {
    action: 'bill.create',
    objectType: 'bill',
    objectId: id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: toBillView(row),
  });
  return row;
}

/** A bill by id or `bill-<n>` the caller may see (404 otherwise), locked when asked. */
export async function requireBill(db: Db, principal: Principal, ref: string, options: { lock?: boolean; tenantId?: string } = {}) {
  const digits = /^bill-([1-9][0-9]{0,14})$/.exec(ref)?.[1];
  const number = digits ? Number(digits) : undefined;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(ref);
  let query = billQuery(db);
  query = number
    ? query.where('bills.number', '=', number)
    : query.where('bills.id', '=', uuid ? ref : '00000000-0000-0000-0000-000000000000');
  if (principal.productId) query = query.where('bills.product_id', '=', principal.productId);
  if (principal.kind === 'marketplace') query = query.where('g.marketplace_id', '=', principal.id);
  if (options.tenantId) query = query.where('bills.tenant_id', '=', options.tenantId);
  if (options.lock) query = query.forUpdate('bills');
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('bill.not_found', { message: `No bill "${ref}"`, parameter: 'bill' });
  return row;
}

/** Cancels a submitted bill (a cancelled one is answered as it is); an invoiced bill is 409. */
export async function cancelBill(db: Db, clock: Clock, caller: Caller, ref: string, options: { tenantId?: string } = {}) {
  requireRole(caller.principal, ...BILL_WRITERS);
  const current = await requireBill(db, caller.principal, ref, { ...options, lock: true });
  if (current.status === 'cancelled') return current;
  if (current.status !== 'submitted') throw new AppError('bill.not_cancellable', { parameter: 'bill' });
  await db.updateTable('bills').set({ status: 'cancelled', updated_at: clock.now() }).where('id', '=', current.id).execute();
  const row = await requireBill(db, caller.principal, current.id);
  await insertAuditRecord(db, caller.actor, {
    action: 'bill.cancel',
    objectType: 'bill',
    objectId: current.id,
    productId: current.product_id,
    tenantId: current.tenant_id,
    before: toBillView(current),
    after: toBillView(row),
  });
  return row;
}

/** The bills the caller may see, newest last, filtered by tenant and/or marketplace group (`limit + 1` rows after `afterNumber`). */
export async function findBills(
  db: Db,
  principal: Principal,
  filter: { tenantId?: string; afterNumber?: number; limit: number },
): Promise<BillRecord[]> {
  let query = billQuery(db)
    .orderBy('bills.number')
    .limit(filter.limit + 1);
  if (principal.productId) query = query.where('bills.product_id', '=', principal.productId);
  if (principal.kind === 'marketplace') query = query.where('g.marketplace_id', '=', principal.id);
  if (filter.tenantId) query = query.where('bills.tenant_id', '=', filter.tenantId);
  if (filter.afterNumber) query = query.where('bills.number', '>', filter.afterNumber);
  return query.execute();
}
