import { sql } from 'kysely';
import { enqueueCall, firstAttempt } from '../backend-calls/call-kind.ts';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { findChange, updateChange } from './plan-changes.repo.ts';

const BATCH = 100;

/**
 * Calls the backend for every period-end change whose boundary has come on its
 * product's commerce clock: the change becomes `calling` and its call is enqueued in
 * one transaction. The tenants are locked first (as every settlement of a call does),
 * skipping those another node or a report holds right now. Returns how many it sent.
 */
export async function sendDueChanges(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('subscription_changes as c')
      .innerJoin('tenants', 'tenants.id', 'c.tenant_id')
      .leftJoin('product_billing as pb', 'pb.product_id', 'c.product_id')
      .select(['c.id'])
      .where('c.status', '=', 'scheduled')
      // A sandbox product's boundaries come on its own clock, ahead of real time.
      .where(sql<boolean>`c.effective_at <= ${now}::timestamptz + coalesce(pb.clock_offset_ms, 0) * interval '1 millisecond'`)
      .orderBy('c.effective_at')
      .limit(BATCH)
      .forUpdate('tenants')
      .skipLocked()
      .execute();
    for (const { id } of due) {
      const change = await findChange(tx, id, { lock: true });
      if (change?.status !== 'scheduled') continue;
      await updateChange(tx, id, { status: 'calling', updated_at: now });
      await enqueueCall(tx, firstAttempt(change.kind, change.tenant_id, change.id));
    }
    return due.length;
  });
}

/** The sweep that sends period-end plan changes when their boundary comes. */
export function planChangeSweep(deps: { db: Db; clock: Clock; intervalMs: number }): Sweep {
  return { name: 'plan-changes', intervalMs: deps.intervalMs, batchSize: BATCH, sweepOnce: () => sendDueChanges(deps) };
}

/**
 * The boundaries held by period-end changes still in flight, by subscription: the
 * renewal of such a subscription stops short of its boundary until the change resolves
 * (then the change's resolution opens the period, once, on the price provisioned).
 */
export async function findHeldBoundaries(db: Db, subscriptionIds: readonly string[]): Promise<Map<string, Date>> {
  if (subscriptionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('subscription_changes')
    .select(['subscription_id', 'effective_at'])
    .where('subscription_id', 'in', subscriptionIds)
    .where('timing', '=', 'period_end')
    .where('status', 'in', ['scheduled', 'calling', 'awaiting_report'])
    .execute();
  return new Map(rows.map((row) => [row.subscription_id, row.effective_at]));
}
