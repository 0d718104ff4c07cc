/**
 * What a sandbox clock's advance does once the new time is committed, and when the clock is `ready` again.
 * Everything Landlord decides alone (renewals, recurring bills, invoicing, usage windows) is done before the
 * answer. A plan change due by the new time is not Landlord's alone: it takes effect only when the product's
 * backend confirms it (the call's 2xx in response mode, the report in callback mode), and it holds its boundary's
 * renewal until then. The advance waits for those confirmations up to a bound; the clock is `advancing` while
 * any is outstanding, `ready` when none is (Stripe's test clocks: `advancing` → `ready`). The status is read from
 * the changes themselves, never stored, so no crash can leave a clock stuck in `advancing`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { runBillingDue } from '../billing/billing-due.ts';
import type { Db } from '../db/database.ts';
import { sendDueChanges } from '../plan-changes/plan-changes.sweep.ts';
import type { Clock } from '../platform/clock.ts';
import { settleUsageNow } from '../usage/settle-now.ts';
import { commerceNow } from './billing-settings.ts';
import { type RenewalDeps, renewProductNow } from './renewals.ts';

// How often a waiting advance looks again (real time: the wait bounds an HTTP request, it is no rule of commerce): confirmations arrive through other requests and other nodes' workers.
const POLL_MS = 100;

/** A plan change due by the clock's time that the product's backend has not confirmed yet. */
export interface AwaitedChange {
  id: string;
  tenantId: string;
  tenant: string;
  kind: string;
  timing: string;
  /** `scheduled` (not called for yet), `calling` (the call is being made or retried), `awaiting_report` (callback mode). */
  status: string;
  effectiveAt: string;
  /** When an unanswered report fails the change (callback mode), real time. */
  reportDueAt: string | null;
}

/** Where the clock is and whether everything due by then is done. */
export interface ClockStatus {
  productId: string;
  now: string;
  status: 'ready' | 'advancing';
  waitingFor: AwaitedChange[];
}

/** The product's plan changes due by its commerce `now` that are still with the backend, oldest first. */
export async function findAwaitedChanges(db: Db, productId: string, now: Date): Promise<AwaitedChange[]> {
  const rows = await sql<{
    id: string;
    tenant_id: string;
    tenant: string;
    kind: string;
    timing: string;
    status: string;
    effective_at: Date;
    report_due_at: Date | null;
  }>`
    select c.id, c.tenant_id, t.name as tenant, c.kind, c.timing, c.status, c.effective_at, c.report_due_at
    from subscription_changes c join tenants t on t.id = c.tenant_id
    where c.product_id = ${productId}::uuid and c.status in ('scheduled', 'calling', 'awaiting_report')
      and c.effective_at <= ${now}::timestamptz
    order by c.effective_at, c.id`.execute(db);
  return rows.rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    tenant: row.tenant,
    kind: row.kind,
    timing: row.timing,
    status: row.status,
    effectiveAt: row.effective_at.toISOString(),
    reportDueAt: row.report_due_at?.toISOString() ?? null,
  }));
}

/** The clock of a product now: `advancing` while a plan change due by its time waits for the backend. */
export async function clockStatus(deps: { db: Db; clock: Clock }, productId: string): Promise<ClockStatus> {
  const now = await commerceNow(deps.db, deps.clock, productId);
  const waitingFor = await findAwaitedChanges(deps.db, productId, now);
  return { productId, now: now.toISOString(), status: waitingFor.length ? 'advancing' : 'ready', waitingFor };
}

/** Does everything due for the product up to its clock that needs no backend; answers how many subscriptions renewed. */
async function catchUp(deps: RenewalDeps, productId: string): Promise<number> {
  const renewed = await renewProductNow(deps, productId);
  // Period-end plan changes due are called for here; bills and recurring bills due by then are made and invoiced.
  await runBillingDue(deps);
  // Usage windows that ended by then: limits left are cleared, overage past the grace billed.
  await settleUsageNow(deps, productId);
  return renewed;
}

/**
 * Runs the work of an advance and waits up to `waitMs` (real time) for the backend to confirm the plan changes
 * due by the new time. A confirmed (or failed) period-end change opens its held period in its own transaction;
 * the catch-up that follows does whatever became due meanwhile.
 */
export async function completeAdvance(deps: RenewalDeps, productId: string, waitMs: number): Promise<ClockStatus & { renewed: number }> {
  let renewed = await catchUp(deps, productId);
  const deadline = Date.now() + waitMs;
  for (let waited = false; ; waited = true) {
    const status = await clockStatus(deps, productId);
    if (status.status === 'ready') {
      if (waited) renewed += await catchUp(deps, productId);
      return { ...status, renewed };
    }
    if (Date.now() >= deadline) return { ...status, renewed };
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    // A due change whose tenant was busy when the catch-up ran is called for now, not at the sweep's next pass.
    if (status.waitingFor.some((change) => change.status === 'scheduled')) await sendDueChanges(deps);
  }
}
