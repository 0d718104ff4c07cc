/**
 * Recurring bills (Maestrano's `account_recurring_bill`): `submitted` until the first
 * execution, `active` while executing, `expired` after `cycles` executions, or
 * `cancelled`. `initialCents` is a one-off bill at creation, not a cycle. Executions are
 * made by `recurring-bills.sweep.ts`, one bill each, exactly once.
 */
import type { Caller, Principal } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { commerceNow, findBillingSettings } from '../commerce/billing-settings.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import { newId } from '../platform/ids.ts';
import * as repo from './bills.repo.ts';
import { type BillingDeps, billEvent, chargeableTenant, currencyOf, invoiceTimeOf } from './bills.service.ts';
import { recurringBillView } from './bills.view.ts';
import { executionAt, parsePeriod, recurrenceProblem } from './recurrence.ts';
import { cancelTenantRow, type TenantRowKind, type TenantRowsQuery, tenantRowsPage, visibleTenantRow } from './visibility.ts';

/** The request body of a recurring bill. */
export interface RecurringBillCreateBody {
  priceCents: number;
  currency?: string;
  description: string;
  period: string;
  frequency?: number;
  cycles?: number | null;
  startDate?: string;
  initialCents?: number;
}

/** Records a recurring bill's event (with the bill an execution made) and, for a caller's change, its audit record. */
export async function recurringBillEvent(
  db: Db,
  caller: Caller | null,
  type: string,
  row: repo.RecurringBillRow,
  extra: { bill?: Record<string, unknown>; before?: repo.RecurringBillRow; at?: Date } = {},
) {
  if (caller) {
    await insertAuditRecord(db, caller.actor, {
      action: type,
      objectType: 'recurring_bill',
      objectId: row.id,
      productId: row.product_id,
      tenantId: row.tenant_id,
      ...(extra.before ? { before: recurringBillView(extra.before) } : {}),
      after: recurringBillView(row),
    });
  }
  await recordEvent(db, {
    type,
    productId: row.product_id,
    tenantId: row.tenant_id,
    ...(extra.at ? { occurredAt: extra.at } : {}),
    data: { recurringBill: recurringBillView(row), ...(extra.bill ? { bill: extra.bill } : {}) },
  });
}

/** Creates a recurring bill (and the one-off bill of its initial charge). Its first execution is due at `startDate`. */
export async function createRecurringBill(db: Db, deps: BillingDeps, caller: Caller, tenantRef: string, body: RecurringBillCreateBody) {
  const tenant = await chargeableTenant(db, caller, tenantRef);
  const period = parsePeriod(body.period);
  if (!period) {
    throw new AppError('request.invalid', { message: 'period is one of Day, Week, SemiMonth, Month, Year', parameter: 'period' });
  }
  const frequency = body.frequency ?? 1;
  const problem = recurrenceProblem(period, frequency);
  if (problem) throw new AppError('recurring_bill.invalid_frequency', { message: problem, parameter: 'frequency' });
  const currency = await currencyOf(db, tenant.id, body.currency);
  const now = await commerceNow(db, deps.clock, tenant.product_id);
  const { timeZone } = await findBillingSettings(db, tenant.product_id);
  const start = body.startDate ? new Date(body.startDate) : now;
  const row = await repo.insertRecurringBill(db, {
    id: newId(),
    product_id: tenant.product_id,
    tenant_id: tenant.id,
    price_cents: body.priceCents,
    currency,
    description: body.description,
    period,
    frequency,
    cycles: body.cycles ?? null,
    start_date: start,
    initial_cents: body.initialCents ?? 0,
    time_zone: timeZone,
    status: 'submitted',
    next_execution_at: executionAt(start, period, frequency, timeZone, 0),
    created_at: now,
    updated_at: now,
  });
  await recurringBillEvent(db, caller, 'recurring_bill.created', row);
  if (row.initial_cents > 0) {
    const initial = await repo.insertBill(db, {
      id: newId(),
      product_id: row.product_id,
      tenant_id: row.tenant_id,
      recurring_bill_id: row.id,
      price_cents: row.initial_cents,
      currency,
      description: `${row.description} (initial charge)`,
      status: 'submitted',
      invoice_at: await invoiceTimeOf(db, tenant, now),
      created_at: now,
      updated_at: now,
    });
    await billEvent(db, null, 'bill.created', initial);
  }
  return row;
}

/** Recurring bills as reading, listing and cancelling see them. */
const RECURRING_BILLS: TenantRowKind<repo.RecurringBillRow> = {
  find: repo.findRecurringBill,
  findPage: repo.findRecurringBills,
  notFound: 'recurring_bill.not_found',
  parameter: 'recurringBill',
  done: { status: 'expired', code: 'recurring_bill.expired' },
};

/** A recurring bill the caller may see (404 otherwise, another product's included). */
export async function getVisibleRecurringBill(db: Db, principal: Principal, id: string, options: { lock?: boolean } = {}) {
  return visibleTenantRow(db, principal, RECURRING_BILLS, id, options);
}

/** Cancels a recurring bill: no execution follows (answers it cancelled; again: the same); an expired one is 409. */
export async function cancelRecurringBill(db: Db, deps: BillingDeps, caller: Caller, id: string) {
  return cancelTenantRow(db, deps.clock, caller, RECURRING_BILLS, id, async (row, now) => {
    const cancelled = await repo.updateRecurringBill(db, row.id, { status: 'cancelled', next_execution_at: null, updated_at: now });
    await recurringBillEvent(db, caller, 'recurring_bill.cancelled', cancelled, { before: row });
    return cancelled;
  });
}

/** One page of a tenant's recurring bills, newest first. */
export async function listRecurringBills(db: Db, principal: Principal, tenantRef: string, query: TenantRowsQuery) {
  return tenantRowsPage(db, principal, RECURRING_BILLS, tenantRef, query);
}
