import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { lockRecurringBill } from './bills.repo.ts';
import { executionDue, type RecurrencePeriod } from './recurrence.ts';

const BATCH = 100;

// Each product's commerce clock: real time, plus a sandbox product's offset.
const commerceNowSql = (now: Date) =>
  sql<Date>`${now}::timestamptz + coalesce((select pb.clock_offset_ms from product_billing pb where pb.product_id = recurring_bills.product_id), 0) * interval '1 millisecond'`;

/**
 * Runs every execution due of one recurring bill, in one transaction with the bill locked
 * (another node's bill is skipped): execution k makes one bill — the unique (recurring bill,
 * execution) key makes a second one impossible — then the next due time is computed from the
 * start, or the bill expires after its last cycle. Returns how many executions it ran.
 */
export async function executeRecurringBill(db: Db, clock: Clock, id: string): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const row = await lockRecurringBill(tx, id, true);
    if (!row || (row.status !== 'submitted' && row.status !== 'active') || !row.next_execution_at) return 0;
    const offset = await tx
      .selectFrom('product_billing')
      .select('clock_offset_ms')
      .where('product_id', '=', row.product_id)
      .executeTakeFirst();
    const now = new Date(clock.now().getTime() + Number(offset?.clock_offset_ms ?? 0));
    const period = row.period as RecurrencePeriod;
    let k = row.executions;
    let due: Date | null = row.next_execution_at;
    let last = row.last_execution_at;
    let ran = 0;
    while (due && due <= now && (row.cycles === null || k < row.cycles)) {
      await tx
        .insertInto('bills')
        .values({
          id: newId(),
          product_id: row.product_id,
          tenant_id: row.tenant_id,
          price_cents: row.price_cents,
          currency: row.currency,
          description: row.description,
          period_started_at: due,
          period_ended_at: executionDue(row.start_at, period, row.frequency, k + 1),
          status: 'submitted',
          recurring_bill_id: row.id,
          execution: k,
          created_at: clock.now(),
          updated_at: clock.now(),
        })
        .onConflict((conflict) => conflict.columns(['recurring_bill_id', 'execution']).doNothing())
        .execute();
      last = due;
      k += 1;
      ran += 1;
      due = row.cycles !== null && k >= row.cycles ? null : executionDue(row.start_at, period, row.frequency, k);
    }
    if (ran === 0) return 0;
    await tx
      .updateTable('recurring_bills')
      .set({
        executions: k,
        last_execution_at: last,
        next_execution_at: due,
        status: due ? 'active' : 'expired',
        updated_at: clock.now(),
      })
      .where('id', '=', row.id)
      .execute();
    return ran;
  });
}

/** One batch: the recurring bills due by their product's commerce clock, each executed in its own transaction. */
export async function executeDueRecurringBills(db: Db, clock: Clock): Promise<number> {
  const due = await db
    .selectFrom('recurring_bills')
    .select('id')
    .where('status', 'in', ['submitted', 'active'])
    .where('next_execution_at', '<=', commerceNowSql(clock.now()))
    .orderBy('next_execution_at')
    .limit(BATCH)
    .execute();
  let executed = 0;
  // Counts only bills this node executed: rows another node holds do not make the runner spin.
  for (const { id } of due) if ((await executeRecurringBill(db, clock, id)) > 0) executed += 1;
  return executed;
}

/** The sweep that runs recurring bills' executions as they fall due. */
export function recurringBillsSweep(deps: { db: Db; clock: Clock; intervalMs?: number }): Sweep {
  return {
    name: 'recurring-bills',
    intervalMs: deps.intervalMs ?? 5_000,
    batchSize: BATCH,
    sweepOnce: () => executeDueRecurringBills(deps.db, deps.clock),
  };
}
