/**
 * Invoices: read, list, finalize (draft → open, numbered per product without gaps), void, and record payments
 * (idempotent on provider + reference; partial payments add up; covered → paid). Invoices are derived, never
 * typed in: period invoices come from renewals, other lines from the features that add them.
 */
import { type Caller, canSeeProduct, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { recordEvent } from '../events/events.repo.ts';
import { toPage } from '../http/pagination.ts';
import { isUuid, newId } from '../platform/ids.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { numberInvoice } from './billed-to.ts';
import { commerceNow } from './billing-settings.ts';
import type { INVOICE_STATUSES } from './commerce.schemas.ts';
import * as repo from './invoices.repo.ts';
import type { CommerceDeps } from './subscriptions.service.ts';

const WRITERS = ['super_admin', 'product_admin', 'client'] as const;
type Invoice = NonNullable<Awaited<ReturnType<typeof repo.findInvoice>>>;

/** The invoice as the API shows it (without lines and payments: `toInvoiceDetail` adds them). */
export function toInvoiceView(row: Invoice) {
  return {
    id: row.id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    subscriptionId: row.subscription_id,
    periodId: row.period_id,
    status: row.status as (typeof INVOICE_STATUSES)[number],
    number: row.number,
    currency: row.currency,
    total: row.total_minor,
    paid: row.paid_minor,
    due: Math.max(0, row.total_minor - row.paid_minor),
    finalizedAt: row.finalized_at?.toISOString() ?? null,
    paidAt: row.paid_at?.toISOString() ?? null,
    voidedAt: row.voided_at?.toISOString() ?? null,
    billedTo: row.billed_to ?? null,
    version: row.version,
    createdAt: row.created_at.toISOString(),
  };
}

/** An invoice with its lines and payments. */
export async function toInvoiceDetail(db: Db, row: Invoice) {
  const [lines, payments] = await Promise.all([repo.findInvoiceLines(db, row.id), repo.findPayments(db, row.id)]);
  return {
    ...toInvoiceView(row),
    lines: lines.map((line) => ({
      id: line.id,
      kind: line.kind,
      source: line.source_key,
      description: line.description,
      quantity: Number(line.quantity),
      amount: line.amount_minor,
      currency: line.currency,
      periodStart: line.period_start?.toISOString() ?? null,
      periodEnd: line.period_end?.toISOString() ?? null,
    })),
    payments: payments.map(toPaymentView),
  };
}

function toPaymentView(payment: Awaited<ReturnType<typeof repo.findPayments>>[number]) {
  return {
    id: payment.id,
    invoiceId: payment.invoice_id,
    provider: payment.provider,
    reference: payment.reference,
    amount: payment.amount_minor,
    currency: payment.currency,
    receivedAt: payment.received_at.toISOString(),
  };
}

/** An invoice the caller may see (404 otherwise, also for another product's). */
export async function getVisibleInvoice(db: Db, principal: Principal, id: string, options: { lock?: boolean } = {}): Promise<Invoice> {
  const row = isUuid(id) ? await repo.findInvoice(db, id, options) : undefined;
  if (!row || !canSeeProduct(principal, row.product_id)) throw new AppError('invoice.not_found', { parameter: 'invoice' });
  return row;
}

/** One page of a tenant's invoices, newest first. */
export async function listTenantInvoices(
  db: Db,
  principal: Principal,
  tenantRef: string,
  query: { status?: string; beforeId?: string; limit: number },
) {
  const tenant = await getVisibleTenant(db, principal, tenantRef);
  return toPage(await repo.findTenantInvoices(db, tenant.id, query, query.limit), query.limit, (row) => row.id);
}

async function audited(db: Db, caller: Caller, before: Invoice, after: Invoice, action: string, eventType: string | null) {
  await insertAuditRecord(db, caller.actor, {
    action,
    objectType: 'invoice',
    objectId: after.id,
    productId: after.product_id,
    tenantId: after.tenant_id,
    before: toInvoiceView(before),
    after: toInvoiceView(after),
  });
  if (eventType) {
    await recordEvent(db, {
      type: eventType,
      productId: after.product_id,
      tenantId: after.tenant_id,
      data: { invoice: toInvoiceView(after) },
    });
  }
}

/** Finalizes a draft: it takes the product's next number (gapless: the counter row is locked until commit). */
export async function finalizeInvoice(db: Db, deps: CommerceDeps, caller: Caller, id: string) {
  requireRole(caller.principal, ...WRITERS);
  const before = await getVisibleInvoice(db, caller.principal, id, { lock: true });
  if (before.status !== 'draft') throw new AppError('invoice.not_draft', { parameter: 'invoice' });
  const now = await commerceNow(db, deps.clock, before.product_id);
  const number = await numberInvoice(db, { id: before.id, productId: before.product_id });
  const free = before.total_minor <= 0;
  const after = await db
    .updateTable('invoices')
    .set((eb) => ({
      status: free ? 'paid' : 'open',
      number,
      finalized_at: now,
      paid_at: free ? now : null,
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', before.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await audited(db, caller, before, after, 'invoice.finalize', 'invoice.finalized');
  if (free)
    await recordEvent(db, {
      type: 'invoice.paid',
      productId: after.product_id,
      tenantId: after.tenant_id,
      data: { invoice: toInvoiceView(after) },
    });
  return after;
}

/** Voids a draft or an open invoice that has no payments. */
export async function voidInvoice(db: Db, deps: CommerceDeps, caller: Caller, id: string) {
  requireRole(caller.principal, ...WRITERS);
  const before = await getVisibleInvoice(db, caller.principal, id, { lock: true });
  if (!['draft', 'open'].includes(before.status) || before.paid_minor > 0) throw new AppError('invoice.not_open', { parameter: 'invoice' });
  const now = await commerceNow(db, deps.clock, before.product_id);
  const after = await db
    .updateTable('invoices')
    .set((eb) => ({ status: 'void', voided_at: now, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', before.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await audited(db, caller, before, after, 'invoice.void', 'invoice.voided');
  return after;
}

// Another invoice's payment under the same provider + reference, committed since the check: refused, not a 500.
async function guardReference<T>(insert: Promise<T>): Promise<T> {
  try {
    return await insert;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('payment.reference_taken', { parameter: 'reference' });
    throw error;
  }
}

/** A payment as recorded against an invoice. */
export interface PaymentBody {
  provider: string;
  reference: string;
  amount: number;
  currency?: string;
  receivedAt?: string;
}

/**
 * Records a payment. The same provider + reference again answers the payment recorded (`replayed`), and a
 * different payment under it is refused. A payment that covers what is due makes the invoice paid.
 */
export async function recordPayment(db: Db, deps: CommerceDeps, caller: Caller, id: string, body: PaymentBody) {
  requireRole(caller.principal, ...WRITERS);
  const before = await getVisibleInvoice(db, caller.principal, id, { lock: true });
  const existing = await db
    .selectFrom('payments')
    .selectAll()
    .where('provider', '=', body.provider)
    .where('reference', '=', body.reference)
    .executeTakeFirst();
  if (existing) {
    if (existing.invoice_id !== before.id || existing.amount_minor !== body.amount)
      throw new AppError('payment.reference_taken', { parameter: 'reference' });
    return { invoice: before, payment: toPaymentView(existing), replayed: true };
  }
  if (before.status !== 'open') throw new AppError('invoice.not_open', { parameter: 'invoice' });
  if (body.currency && body.currency !== before.currency) throw new AppError('payment.currency_mismatch', { parameter: 'currency' });
  if (body.amount > before.total_minor - before.paid_minor) throw new AppError('payment.exceeds_balance', { parameter: 'amount' });
  const now = await commerceNow(db, deps.clock, before.product_id);
  const payment = await guardReference(
    db
      .insertInto('payments')
      .values({
        id: newId(),
        invoice_id: before.id,
        product_id: before.product_id,
        provider: body.provider,
        reference: body.reference,
        amount_minor: body.amount,
        currency: before.currency,
        received_at: body.receivedAt ? new Date(body.receivedAt) : now,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  const paid = before.paid_minor + body.amount >= before.total_minor;
  const after = await db
    .updateTable('invoices')
    .set((eb) => ({
      paid_minor: eb('paid_minor', '+', body.amount),
      ...(paid ? { status: 'paid', paid_at: now } : {}),
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', before.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await audited(db, caller, before, after, 'invoice.record_payment', paid ? 'invoice.paid' : null);
  return { invoice: after, payment: toPaymentView(payment), replayed: false };
}
