import type { BillRow, RecurringBillRow } from './bills.repo.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** A bill as the API shows it and its events carry it (Maestrano's `account_bill`, in camel case). */
export function billView(row: BillRow) {
  return {
    id: row.id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    recurringBillId: row.recurring_bill_id,
    execution: row.execution,
    priceCents: row.price_cents,
    currency: row.currency,
    description: row.description,
    units: Number(row.units),
    periodStartedAt: iso(row.period_started_at),
    periodEndedAt: iso(row.period_ended_at),
    status: row.status as 'submitted' | 'invoiced' | 'cancelled',
    invoiceAt: row.invoice_at.toISOString(),
    invoiceId: row.invoice_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  };
}

/** A recurring bill as the API shows it (Maestrano's `account_recurring_bill`, in camel case). */
export function recurringBillView(row: RecurringBillRow) {
  return {
    id: row.id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    priceCents: row.price_cents,
    currency: row.currency,
    description: row.description,
    period: row.period,
    frequency: row.frequency,
    cycles: row.cycles,
    startDate: row.start_date.toISOString(),
    initialCents: row.initial_cents,
    timeZone: row.time_zone,
    status: row.status as 'submitted' | 'active' | 'expired' | 'cancelled',
    executions: row.executions,
    lastExecutionAt: iso(row.last_execution_at),
    nextExecutionAt: iso(row.next_execution_at),
    remainingCycles: row.cycles === null ? null : row.cycles - row.executions,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  };
}
