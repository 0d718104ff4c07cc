import type { ChangeKind, ChangeStatus, ChangeTiming } from './change-rules.ts';
import type { ChangeRow } from './plan-changes.repo.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** A plan change as the API shows it and its events carry it. */
export function changeView(row: ChangeRow) {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    productId: row.product_id,
    tenantId: row.tenant_id,
    kind: row.kind as ChangeKind,
    timing: row.timing as ChangeTiming,
    fromPriceId: row.from_price_id,
    toPriceId: row.to_price_id,
    status: row.status as ChangeStatus,
    effectiveAt: row.effective_at.toISOString(),
    periodNumber: row.period_number,
    reportDueAt: iso(row.report_due_at),
    proration: (row.proration as { kind: string; amount: number; days: number; periodDays: number }[] | null) ?? null,
    invoiceId: row.invoice_id,
    failureReason: (row.failure_reason as { reason?: string } | null) ?? null,
    reason: row.reason,
    requestedBy: { type: row.requested_by_type, id: row.requested_by_id },
    resolvedAt: iso(row.resolved_at),
    createdAt: row.created_at.toISOString(),
    version: row.version,
  };
}
export type ChangeView = ReturnType<typeof changeView>;
