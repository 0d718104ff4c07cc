import type { Insertable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { SubscriptionsTable } from '../db/schema.ts';
import type { SubscriptionRow, SubscriptionState } from './subscription-state.ts';

/** The tenant's live subscription or, when none is live, its latest one; `lock` locks it. */
export async function findTenantSubscription(db: Db, tenantId: string, options: { lock?: boolean } = {}) {
  let query = db
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy((eb) => eb.case().when('status', 'in', ['pending', 'trialing', 'active', 'past_due']).then(0).else(1).end())
    .orderBy('id', 'desc')
    .limit(1);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Inserts a new subscription. The partial unique index refuses a second live one for the tenant (23505). */
export async function insertSubscription(db: Db, values: Insertable<SubscriptionsTable>): Promise<SubscriptionRow> {
  return db.insertInto('subscriptions').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Stores a subscription's changed state (the caller holds the row locked) and bumps its version. */
export async function saveSubscriptionState(db: Db, state: SubscriptionState, now: Date): Promise<SubscriptionRow> {
  return db
    .updateTable('subscriptions')
    .set((eb) => ({
      status: state.status,
      anchor_at: state.anchorAt,
      anchor_number: state.anchorNumber,
      trial_end_at: state.trialEndAt,
      trial_notice_at: state.trialNoticeAt,
      trial_notice_sent: state.trialNoticeSent,
      auto_renew: state.autoRenew,
      cancel_at: state.cancelAt,
      ended_at: state.endedAt,
      current_period_number: state.currentPeriodNumber,
      current_period_start: state.currentPeriodStart,
      current_period_end: state.currentPeriodEnd,
      next_action_at: state.nextActionAt,
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', state.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Sets the tenant's mirrored plan price (its live subscription's price, or null). */
export async function mirrorTenantPlan(db: Db, tenantId: string, priceId: string | null): Promise<void> {
  await db
    .updateTable('tenants')
    .set((eb) => ({ plan_price_id: priceId, version: eb('version', '+', 1) }))
    .where('id', '=', tenantId)
    .where('plan_price_id', 'is distinct from', priceId)
    .execute();
}

/** One page of a subscription's periods by number (`limit + 1` rows). */
export async function findPeriods(db: Db, subscriptionId: string, afterNumber: number | undefined, limit: number) {
  let query = db
    .selectFrom('subscription_periods')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('number')
    .limit(limit + 1);
  if (afterNumber !== undefined) query = query.where('number', '>', afterNumber);
  return query.execute();
}
