import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import * as repo from './bills.repo.ts';
import { billEvent, invoiceTimeOf } from './bills.service.ts';
import { billView } from './bills.view.ts';
import { executionAt, type RecurrencePeriod } from './recurrence.ts';
import { recurringBillEvent } from './recurring-bills.service.ts';

const BATCH = 100;
// A recurring bill years behind catches up over several passes, not in one transaction.
const MAX_EXECUTIONS_PER_PASS = 400;

/**
 * Makes every execution of one recurring bill that is due on its product's commerce
 * clock, in order, each one bill dated at its own execution; claimed with `FOR UPDATE
 * SKIP LOCKED`, in its own transaction. `unique (recurring_bill_id, execution)` makes a
 * second bill for an execution impossible. Returns false when nothing was due.
 */
export async function executeOneDue(deps: { db: Db; clock: Clock }): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const claimed = await tx
      .selectFrom('recurring_bills as rb')
      .leftJoin('product_billing as pb', 'pb.product_id', 'rb.product_id')
      .selectAll('rb')
      .select(sql<number>`coalesce(pb.clock_offset_ms, 0)`.as('offset_ms'))
      .where('rb.status', 'in', ['submitted', 'active'])
      .where(
        sql<boolean>`rb.next_execution_at <= ${deps.clock.now()}::timestamptz + coalesce(pb.clock_offset_ms, 0) * interval '1 millisecond'`,
      )
      .orderBy('rb.next_execution_at')
      .limit(1)
      .forUpdate('rb')
      .skipLocked()
      .executeTakeFirst();
    if (!claimed) return false;
    const { offset_ms: offset, ...row } = claimed;
    const now = new Date(deps.clock.now().getTime() + Number(offset));
    const period = row.period as RecurrencePeriod;
    const at = (k: number) => executionAt(row.start_date, period, row.frequency, row.time_zone, k);
    const tenant = { id: row.tenant_id, product_id: row.product_id };
    let k = row.executions;
    const made: repo.BillRow[] = [];
    while ((row.cycles === null || k < row.cycles) && at(k) <= now && made.length < MAX_EXECUTIONS_PER_PASS) {
      const executedAt = at(k);
      made.push(
        await repo.insertBill(tx, {
          id: newId(),
          product_id: row.product_id,
          tenant_id: row.tenant_id,
          recurring_bill_id: row.id,
          execution: k,
          price_cents: row.price_cents,
          currency: row.currency,
          description: row.description,
          period_started_at: executedAt,
          period_ended_at: at(k + 1),
          status: 'submitted',
          invoice_at: await invoiceTimeOf(tx, tenant, executedAt),
          created_at: executedAt,
          updated_at: executedAt,
        }),
      );
      k += 1;
    }
    const done = row.cycles !== null && k >= row.cycles;
    const updated = await repo.updateRecurringBill(tx, row.id, {
      executions: k,
      status: done ? 'expired' : 'active',
      last_execution_at: k > 0 ? at(k - 1) : null,
      next_execution_at: done ? null : at(k),
      updated_at: now,
    });
    for (const bill of made) {
      await billEvent(tx, null, 'bill.created', bill);
      await recurringBillEvent(tx, null, 'recurring_bill.executed', updated, { bill: billView(bill), at: bill.created_at });
    }
    if (done) await recurringBillEvent(tx, null, 'recurring_bill.expired', updated);
    return true;
  });
}

/** The sweep that executes recurring bills when they are due (each bill in its own transaction). */
export function recurringBillSweep(deps: { db: Db; clock: Clock; intervalMs: number }): Sweep {
  return {
    name: 'recurring-bills',
    intervalMs: deps.intervalMs,
    batchSize: BATCH,
    async sweepOnce() {
      let handled = 0;
      while (handled < BATCH && (await executeOneDue(deps))) handled++;
      return handled;
    },
  };
}
