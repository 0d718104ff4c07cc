import type { Db } from '../db/database.ts';
import { findLastReset } from '../plan-changes/plan-changes.repo.ts';
import { findTenantSubscription } from './subscriptions.repo.ts';

/** A tenant's live (or latest) subscription as the RoSaaS tenant read carries it; null without one. */
export async function rosaasSubscriptionOf(db: Db, tenantId: string) {
  const row = await findTenantSubscription(db, tenantId);
  if (!row) return null;
  const price = await db
    .selectFrom('plan_prices')
    .innerJoin('plans', 'plans.id', 'plan_prices.plan_id')
    .select(['plan_prices.name as price_name', 'plans.name as plan_name'])
    .where('plan_prices.id', '=', row.price_id)
    .executeTakeFirst();
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return {
    id: row.id,
    status: row.status,
    planPriceId: row.price_id,
    planPriceSystemName: price?.price_name ?? null,
    planName: price?.plan_name ?? null,
    periodStartDate: iso(row.current_period_start),
    periodEndDate: iso(row.current_period_end),
    trialEndDate: iso(row.trial_end_at),
    autoRenew: row.auto_renew,
    cancelDate: iso(row.cancel_at),
    // The usage windows restarted by the latest reset the backend confirmed (ADR 0009).
    lastResetDate: iso(await findLastReset(db, row.id)),
  };
}
