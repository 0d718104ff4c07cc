import { sql } from 'kysely';
import * as invoices from '../commerce/invoices.repo.ts';
import { toInvoiceView } from '../commerce/invoices.service.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { loadPlanFeatures, loadSpans, loadUsageProduct, spanAt } from './usage-context.ts';

const BATCH = 100;

/** The invoice line key of a window's overage: one line per tenant, feature and window, ever. */
export function overageSourceKey(tenantId: string, featureId: string, windowStart: Date): string {
  return `usage:${tenantId}:${featureId}:${windowStart.toISOString()}`;
}

interface Due {
  tenant_id: string;
  feature_id: string;
  window_start: Date;
}

/**
 * One pass of the overage sweep: windows whose grace is over (as of each product's
 * commerce clock) and that are not settled yet. Each is settled in its own transaction:
 * usage past the limit of a plan feature with an overage price is billed in arrears on an
 * invoice of its own — one `usage` line whose source key is unique per window, numbered
 * and finalized like every invoice — and the window is marked settled, so it is billed once.
 */
export async function sweepOverage(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  const due = await sql<Due>`
    select t.tenant_id, t.feature_id, t.window_start
    from usage_totals t
    join products p on p.id = t.product_id
    left join product_billing b on b.product_id = t.product_id
    where t.settled_at is null and t.window_end is not null
      and t.window_end + make_interval(mins => p.usage_grace_minutes)
        <= ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond'
    order by t.window_end
    limit ${BATCH}`.execute(deps.db);
  let settled = 0;
  for (const row of due.rows) if (await settleWindow(deps, row)) settled++;
  return settled;
}

async function settleWindow(deps: { db: Db; clock: Clock }, key: Due): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const total = await tx
      .selectFrom('usage_totals')
      .innerJoin('features', 'features.id', 'usage_totals.feature_id')
      .selectAll('usage_totals')
      .select('features.name as feature_name')
      .where('usage_totals.tenant_id', '=', key.tenant_id)
      .where('usage_totals.feature_id', '=', key.feature_id)
      .where('usage_totals.window_start', '=', key.window_start)
      .where('usage_totals.settled_at', 'is', null)
      .forUpdate('usage_totals')
      .skipLocked()
      .executeTakeFirst();
    if (!total) return false;
    const product = await loadUsageProduct(tx, deps.clock, total.product_id);
    const span = spanAt((await loadSpans(tx, [total.tenant_id])).get(total.tenant_id), total.window_start);
    const metered = span ? (await loadPlanFeatures(tx, [span.planId])).get(span.planId)?.get(total.feature_id) : undefined;
    const used = total.quantity + total.adjusted;
    const over = metered?.limit === null || metered === undefined ? 0 : used - metered.limit;
    if (span && metered?.overageUnitPrice && over > 0) {
      const amount = over * metered.overageUnitPrice;
      const draft = await invoices.insertDraftInvoice(tx, {
        id: newId(),
        product_id: total.product_id,
        tenant_id: total.tenant_id,
        subscription_id: span.id,
        status: 'draft',
        currency: span.currency,
        created_at: product.now,
        updated_at: product.now,
      });
      await invoices.insertInvoiceLine(tx, {
        id: newId(),
        invoice_id: draft.id,
        product_id: total.product_id,
        kind: 'usage',
        source_key: overageSourceKey(total.tenant_id, total.feature_id, total.window_start),
        description: `${total.feature_name}: ${over} over the limit of ${metered.limit} × ${metered.overageUnitPrice}`,
        quantity: String(over),
        amount_minor: amount,
        currency: span.currency,
        period_start: total.window_start,
        period_end: total.window_end,
        created_at: product.now,
      });
      const number = await invoices.takeInvoiceNumber(tx, total.product_id);
      const invoice = await tx
        .updateTable('invoices')
        .set((eb) => ({ status: 'open', number, finalized_at: product.now, version: eb('version', '+', 1), updated_at: product.now }))
        .where('id', '=', draft.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      for (const type of ['invoice.created', 'invoice.finalized']) {
        await recordEvent(tx, {
          type,
          productId: total.product_id,
          tenantId: total.tenant_id,
          data: { invoice: toInvoiceView(invoice) },
          occurredAt: product.now,
        });
      }
    }
    await tx
      .updateTable('usage_totals')
      .set({ settled_at: product.now })
      .where('tenant_id', '=', total.tenant_id)
      .where('feature_id', '=', total.feature_id)
      .where('window_start', '=', total.window_start)
      .execute();
    return true;
  });
}

/** The sweep that bills overage once a window's grace is over (registered in `buildSweeps`). */
export function usageOverageSweep(deps: { db: Db; clock: Clock; intervalMs?: number }): Sweep {
  return { name: 'usage-overage', intervalMs: deps.intervalMs ?? 10_000, batchSize: BATCH, sweepOnce: () => sweepOverage(deps) };
}
