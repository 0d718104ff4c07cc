import type { Db } from '../db/database.ts';
import { sendDueChanges } from '../plan-changes/plan-changes.sweep.ts';
import type { Clock } from '../platform/clock.ts';
import { invoiceOneTenant } from './bill-invoices.sweep.ts';
import { executeOneDue } from './recurring-bills.sweep.ts';

/** How often the billing sweeps look for due work: the worker's poll, but not more than once a second. */
export function billingSweepMs(workerPollMs: number): number {
  return Math.max(workerPollMs, 1000);
}

/**
 * Does at once all the billing work due on every commerce clock: period-end plan changes
 * are called for, recurring bills executed, then due bills invoiced. A sandbox clock's
 * advance runs it after the renewals, so it answers with that work done (and then waits
 * for the backend's confirmation of the plan changes it called for: `commerce/clock-advance.ts`).
 */
export async function runBillingDue(deps: { db: Db; clock: Clock }): Promise<void> {
  while ((await sendDueChanges(deps)) > 0) {
    // until nothing is due
  }
  while (await executeOneDue(deps)) {
    // until nothing is due
  }
  while (await invoiceOneTenant(deps)) {
    // until nothing is due
  }
}
