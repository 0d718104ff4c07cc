/**
 * One-off bills (Maestrano's `account_bill`): a charge against a tenant that goes on its
 * next invoice — at its subscription's next boundary, or at the end of the local day for
 * a tenant without one (`bill-invoices.sweep.ts`). `submitted → invoiced | cancelled`.
 */
import type { RawBuilder } from 'kysely';
import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { findBillingSettings } from '../commerce/billing-settings.ts';
import { DEFAULT_BILLING_ZONE, localDayWindow } from '../commerce/calendar.ts';
import { LIVE_STATUSES } from '../commerce/subscription-state.ts';
import { findTenantSubscription } from '../commerce/subscriptions.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { SequencerNudge } from '../events/nudge.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { TenantRecord } from '../tenants/tenants.repo.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import * as repo from './bills.repo.ts';
import { billView } from './bills.view.ts';
import { cancelTenantRow, type TenantRowKind, type TenantRowsQuery, tenantRowsPage, visibleTenantRow, WRITERS } from './visibility.ts';

/** What bills need. */
export interface BillingDeps {
  clock: Clock;
  /** Wakes the event sequencers after a bill's write, which records its event without a NOTIFY. */
  nudgeSequencer: SequencerNudge;
}

/** The request body of a one-off bill. */
export interface BillCreateBody {
  priceCents: number;
  currency?: string;
  description: string;
  units?: number;
  periodStartedAt?: string | null;
  periodEndedAt?: string | null;
}

/**
 * When a bill made at `at` goes on an invoice: the next boundary of the tenant's live
 * subscription (its next invoice), or the end of the local day in the product's billing
 * zone (a daily invoice) for a tenant without one.
 */
export async function invoiceTimeOf(db: Db, tenant: Pick<TenantRecord, 'id' | 'product_id'>, at: Date): Promise<Date> {
  const subscription = await findTenantSubscription(db, tenant.id);
  const live = subscription && LIVE_STATUSES.includes(subscription.status as never);
  if (live && subscription.current_period_end) return invoiceTimeFrom(subscription.current_period_end, null, at);
  return invoiceTimeFrom(null, (await findBillingSettings(db, tenant.product_id)).timeZone, at);
}

/** `invoiceTimeOf` from what was read: the live subscription's period end if any, else the product's zone. */
export function invoiceTimeFrom(periodEnd: Date | null, timeZone: string | null, at: Date): Date {
  if (periodEnd) return periodEnd > at ? periodEnd : at;
  return localDayWindow(timeZone ?? DEFAULT_BILLING_ZONE, at).end;
}

/** The currency a charge is in: the one given, else the tenant's live subscription's (400 naming `currency` without either). */
export async function currencyOf(db: Db, tenantId: string, given: string | undefined): Promise<string> {
  if (given) return given;
  const subscription = await findTenantSubscription(db, tenantId);
  if (subscription && LIVE_STATUSES.includes(subscription.status as never)) return subscription.currency;
  throw noCurrency();
}

const noCurrency = () =>
  new AppError('request.invalid', { message: 'Name the currency: the tenant has no subscription to take it from', parameter: 'currency' });

/** A tenant the caller may charge (404 when it cannot see it, 409 when it is deleted). */
export async function chargeableTenant(db: Db, caller: Caller, tenantRef: string): Promise<TenantRecord> {
  requireRole(caller.principal, ...WRITERS);
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef);
  if (tenant.status === 'deleted') throw new AppError('tenant.deleted', { parameter: 'tenant' });
  return tenant;
}

/** Records a bill's event and its audit record. */
export async function billEvent(db: Db, caller: Caller | null, type: string, bill: repo.BillRow, before?: repo.BillRow) {
  if (caller) {
    await insertAuditRecord(db, caller.actor, {
      action: type,
      objectType: 'bill',
      objectId: bill.id,
      productId: bill.product_id,
      tenantId: bill.tenant_id,
      ...(before ? { before: billView(before) } : {}),
      after: billView(bill),
    });
  }
  await recordEvent(db, { type, productId: bill.product_id, tenantId: bill.tenant_id, data: { bill: billView(bill) } });
}

/** Charges a tenant once: the bill goes on its next invoice. */
export async function createBill(db: Db, deps: BillingDeps, caller: Caller, tenantRef: string, body: BillCreateBody) {
  return createBillFor(db, deps, caller, await chargeableTenant(db, caller, tenantRef), body);
}

/**
 * `createBill` for a tenant the caller already read and may see (a marketplace's group joins it): saves the
 * tenant's read. The role and the tenant's deletion are checked here all the same. `within` saves more: the
 * charge context read along with the tenant, and a `guard` re-checked and locked by the write
 * (`insertBillLogged`), so a caller that read the tenant unlocked needs no transaction.
 */
export async function createBillFor(
  db: Db,
  deps: BillingDeps,
  caller: Caller,
  tenant: Pick<TenantRecord, 'id' | 'product_id' | 'status'>,
  body: BillCreateBody,
  within: { context?: repo.ChargeContext; guard?: RawBuilder<unknown> } = {},
) {
  requireRole(caller.principal, ...WRITERS);
  if (tenant.status === 'deleted') throw new AppError('tenant.deleted', { parameter: 'tenant' });
  const started = body.periodStartedAt ? new Date(body.periodStartedAt) : null;
  const ended = body.periodEndedAt ? new Date(body.periodEndedAt) : null;
  if ((started === null) !== (ended === null)) {
    throw new AppError('request.invalid', {
      message: 'Give both ends of the period, or neither',
      parameter: started ? 'periodEndedAt' : 'periodStartedAt',
    });
  }
  if (started && ended && ended <= started) {
    throw new AppError('request.invalid', { message: 'The period must end after it starts', parameter: 'periodEndedAt' });
  }
  // One read for the rest (live subscription, billing settings) and one statement for every write (ADR 0009).
  const context = within.context ?? (await repo.findChargeContext(db, tenant.id, tenant.product_id));
  const currency = body.currency ?? context.subscription_currency;
  if (!currency) throw noCurrency();
  const now = new Date(deps.clock.now().getTime() + Number(context.clock_offset_ms ?? 0));
  const values = {
    id: newId(),
    product_id: tenant.product_id,
    tenant_id: tenant.id,
    price_cents: body.priceCents,
    currency,
    description: body.description,
    units: String(body.units ?? 1),
    period_started_at: started,
    period_ended_at: ended,
    status: 'submitted',
    invoice_at: invoiceTimeFrom(context.current_period_end, context.time_zone, now),
    created_at: now,
    updated_at: now,
  };
  // The view the event and audit record carry: the row as it will be (a new bill's defaults: version 1, no invoice yet).
  const view = billView({ ...values, recurring_bill_id: null, execution: null, invoice_id: null, version: 1 } as repo.BillRow);
  const bill = await repo.insertBillLogged(
    db,
    values,
    {
      actor: caller.actor,
      audit: {
        action: 'bill.created',
        objectType: 'bill',
        objectId: values.id,
        productId: values.product_id,
        tenantId: values.tenant_id,
        after: view,
      },
      event: { type: 'bill.created', productId: values.product_id, tenantId: values.tenant_id, data: { bill: view } },
    },
    within.guard,
  );
  // Deleted since it was read (or the guard's row gone): the tenant's row is re-checked under its lock in the write.
  if (!bill) throw new AppError('tenant.deleted', { parameter: 'tenant' });
  deps.nudgeSequencer();
  return bill;
}

/** Bills as reading, listing and cancelling see them. */
const BILLS: TenantRowKind<repo.BillRow> = {
  find: repo.findBill,
  findPage: repo.findBills,
  notFound: 'bill.not_found',
  parameter: 'bill',
  done: { status: 'invoiced', code: 'bill.invoiced' },
};

/** A bill the caller may see (404 otherwise, another product's included). */
export async function getVisibleBill(db: Db, principal: Principal, id: string, options: { lock?: boolean } = {}) {
  return visibleTenantRow(db, principal, BILLS, id, options);
}

/** Cancels a submitted bill (answers it cancelled; again: the same); an invoiced bill is 409. */
export async function cancelBill(db: Db, deps: BillingDeps, caller: Caller, id: string) {
  return cancelTenantRow(db, deps.clock, caller, BILLS, id, async (bill, now) => {
    const cancelled = await repo.updateBill(db, bill.id, { status: 'cancelled', updated_at: now });
    await billEvent(db, caller, 'bill.cancelled', cancelled, bill);
    return cancelled;
  });
}

/** One page of a tenant's bills, newest first. */
export async function listBills(db: Db, principal: Principal, tenantRef: string, query: TenantRowsQuery) {
  return tenantRowsPage(db, principal, BILLS, tenantRef, query);
}
