import { sql } from 'kysely';
import { enqueueCall, firstAttempt } from '../backend-calls/call-kind.ts';
import { LIVE_STATUSES } from '../commerce/subscription-state.ts';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import { failChange } from './plan-changes.effects.ts';
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
      // A subscription that ended before its boundary (cancelled now, tenant deleted) has nothing to change.
      const subscription = await tx
        .selectFrom('subscriptions')
        .select('status')
        .where('id', '=', change.subscription_id)
        .executeTakeFirst();
      if (!subscription || !LIVE_STATUSES.includes(subscription.status as never)) {
        await failChange(tx, deps, change, 'the subscription ended before the change was due');
        continue;
      }
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
