import { sql } from 'kysely';
import { LIVE_STATUSES } from '../commerce/subscription-state.ts';
import { findTenantSubscription } from '../commerce/subscriptions.repo.ts';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import * as repo from './bills.repo.ts';
import { billEvent } from './bills.service.ts';
import { lineAmount, writeFinalizedInvoice } from './invoicing.ts';

const BATCH = 100;

/**
 * Puts one tenant's submitted bills whose invoice time has come (on its product's
 * commerce clock) on an invoice — one per currency, a line per bill (`bill:<id>`, unique:
 * a bill is billed once, ever) — and marks them invoiced, in one transaction. The bills
 * are claimed with `FOR UPDATE SKIP LOCKED`, so a cancellation or another node waits or
 * skips. Returns false when no tenant had bills due.
 */
export async function invoiceOneTenant(deps: { db: Db; clock: Clock }): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const due = sql<boolean>`b.invoice_at <= ${deps.clock.now()}::timestamptz + coalesce(pb.clock_offset_ms, 0) * interval '1 millisecond'`;
    const first = await tx
      .selectFrom('bills as b')
      .leftJoin('product_billing as pb', 'pb.product_id', 'b.product_id')
      .select(['b.tenant_id', sql<number>`coalesce(pb.clock_offset_ms, 0)`.as('offset_ms')])
      .where('b.status', '=', 'submitted')
      .where(due)
      .orderBy('b.invoice_at')
      .limit(1)
      .forUpdate('b')
      .skipLocked()
      .executeTakeFirst();
    if (!first) return false;
    const now = new Date(deps.clock.now().getTime() + Number(first.offset_ms));
    const bills = await tx
      .selectFrom('bills as b')
      .leftJoin('product_billing as pb', 'pb.product_id', 'b.product_id')
      .selectAll('b')
      .where('b.tenant_id', '=', first.tenant_id)
      .where('b.status', '=', 'submitted')
      .where(due)
      .orderBy('b.id')
      .forUpdate('b')
      .skipLocked()
      .execute();
    const subscription = await findTenantSubscription(tx, first.tenant_id);
    const subscriptionId = subscription && LIVE_STATUSES.includes(subscription.status as never) ? subscription.id : null;
    for (const currency of [...new Set(bills.map((bill) => bill.currency))]) {
      const group = bills.filter((bill) => bill.currency === currency);
      const [one] = group;
      if (!one) continue;
      const invoice = await writeFinalizedInvoice(
        tx,
        { productId: one.product_id, tenantId: one.tenant_id, subscriptionId, currency, at: now },
        group.map((bill) => ({
          kind: 'bill',
          sourceKey: `bill:${bill.id}`,
          description: bill.description,
          quantity: bill.units,
          amountMinor: lineAmount(bill.price_cents, bill.units),
          periodStart: bill.period_started_at,
          periodEnd: bill.period_ended_at,
        })),
      );
      for (const bill of group) {
        const invoiced = await repo.updateBill(tx, bill.id, { status: 'invoiced', invoice_id: invoice.id, updated_at: now });
        await billEvent(tx, null, 'bill.invoiced', invoiced);
      }
    }
    return true;
  });
}

/** The sweep that invoices bills whose time has come (one tenant per transaction). */
export function billInvoiceSweep(deps: { db: Db; clock: Clock; intervalMs: number }): Sweep {
  return {
    name: 'bill-invoices',
    intervalMs: deps.intervalMs,
    batchSize: BATCH,
    async sweepOnce() {
      let handled = 0;
      while (handled < BATCH && (await invoiceOneTenant(deps))) handled++;
      return handled;
    },
  };
}
