import { numberInvoice } from '../commerce/billed-to.ts';
import { insertDraftInvoice, insertInvoiceLine } from '../commerce/invoices.repo.ts';
import { toInvoiceView } from '../commerce/invoices.service.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import { newId } from '../platform/ids.ts';

/** One line of an invoice made outside a renewal (proration, bills). */
export interface NewLine {
  kind: 'proration' | 'bill';
  /** What the line bills (`proration:<change>:credit`, `bill:<id>`): unique, so a source is billed once, ever. */
  sourceKey: string;
  description: string;
  quantity: string;
  amountMinor: number;
  periodStart: Date | null;
  periodEnd: Date | null;
}

/**
 * Writes an invoice with its lines, finalized at once: it takes the product's next
 * number (gapless: the counter row stays locked until commit) and the tenant's billing profile, and is `open`, or
 * `paid` when it owes nothing (a credit that covers the charge). Records
 * `invoice.created`, `invoice.finalized` (and `invoice.paid`). Returns its id and total.
 */
export async function writeFinalizedInvoice(
  db: Db,
  invoice: { productId: string; tenantId: string; subscriptionId: string | null; currency: string; at: Date },
  lines: readonly NewLine[],
): Promise<{ id: string; number: number; total: number }> {
  const draft = await insertDraftInvoice(db, {
    id: newId(),
    product_id: invoice.productId,
    tenant_id: invoice.tenantId,
    subscription_id: invoice.subscriptionId,
    status: 'draft',
    currency: invoice.currency,
    created_at: invoice.at,
    updated_at: invoice.at,
  });
  for (const line of lines) {
    await insertInvoiceLine(db, {
      id: newId(),
      invoice_id: draft.id,
      product_id: invoice.productId,
      kind: line.kind,
      source_key: line.sourceKey,
      description: line.description,
      quantity: line.quantity,
      amount_minor: line.amountMinor,
      currency: invoice.currency,
      period_start: line.periodStart,
      period_end: line.periodEnd,
      created_at: invoice.at,
    });
  }
  const total = lines.reduce((sum, line) => sum + line.amountMinor, 0);
  const number = await numberInvoice(db, { id: draft.id, productId: invoice.productId });
  const settled = total <= 0;
  const finalized = await db
    .updateTable('invoices')
    .set((eb) => ({
      status: settled ? 'paid' : 'open',
      number,
      finalized_at: invoice.at,
      paid_at: settled ? invoice.at : null,
      updated_at: invoice.at,
      version: eb('version', '+', 1),
    }))
    .where('id', '=', draft.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  // The invoice as the API shows it, with the billing profile numbering stored on it.
  const view = toInvoiceView(finalized);
  for (const type of ['invoice.created', 'invoice.finalized', ...(settled ? ['invoice.paid'] : [])]) {
    await recordEvent(db, {
      type,
      productId: invoice.productId,
      tenantId: invoice.tenantId,
      occurredAt: invoice.at,
      data: { invoice: view },
    });
  }
  return { id: draft.id, number, total };
}

/** `priceCents × units` (units a decimal string, e.g. `1.5`), rounded half up, in exact integer arithmetic. */
export function lineAmount(priceCents: number, units: string): number {
  const [whole = '0', fraction = ''] = units.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole + fraction);
  return Number((2n * BigInt(priceCents) * scaled + scale) / (2n * scale));
}
