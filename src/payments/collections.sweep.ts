import { sql } from 'kysely';
import type { SubscriptionRow } from '../commerce/subscription-state.ts';
import { stateOf, subscriptionView } from '../commerce/subscription-state.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';

const BATCH = 100;

// An invoice of the subscription is overdue: open, and finalized more than the product's grace period ago on its clock.
const overdue = (now: Date) => sql<boolean>`exists (
  select 1 from invoices i
  where i.subscription_id = s.id and i.status = 'open' and i.total_minor > i.paid_minor
    and i.finalized_at + p.grace_days * interval '1 day' <= ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond')`;

/**
 * For products whose collection is `automatic`: makes `past_due` every active
 * subscription with an overdue invoice, and `active` again every past-due one that has
 * none left (`subscription.past_due`, `subscription.recovered`). The subscriptions are
 * claimed with `FOR UPDATE SKIP LOCKED` (a renewal in progress is seen next time).
 * Products that collect themselves (`none`, the default) are never touched.
 */
export async function sweepCollections(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const rows = await sql<SubscriptionRow & { next_status: string; commerce_now: Date }>`
      select s.*, case when s.status = 'active' then 'past_due' else 'active' end as next_status,
        ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond' as commerce_now
      from subscriptions s
      join tenants t on t.id = s.tenant_id
      join payment_providers p on p.product_id = s.product_id and p.collection = 'automatic'
      left join product_billing b on b.product_id = s.product_id
      where (s.status = 'active' and ${overdue(now)}) or (s.status = 'past_due' and not ${overdue(now)})
      order by s.id
      limit ${BATCH}
      -- The event below writes the tenant: it is taken with the subscription, never waited for (a settlement
      -- holds the tenant before the subscription, ADR 0009).
      for update of s skip locked for no key update of t skip locked`.execute(tx);
    for (const row of rows.rows) {
      const { next_status: status, commerce_now: at, ...subscription } = row;
      const updated = await tx
        .updateTable('subscriptions')
        .set((eb) => ({ status, version: eb('version', '+', 1), updated_at: at }))
        .where('id', '=', subscription.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordEvent(tx, {
        type: status === 'past_due' ? 'subscription.past_due' : 'subscription.recovered',
        productId: updated.product_id,
        tenantId: updated.tenant_id,
        occurredAt: at,
        data: { subscription: subscriptionView(stateOf(updated)), before: subscriptionView(stateOf(subscription)) },
      });
    }
    return rows.rows.length;
  });
}

/** The sweep that tracks collection for products that ask Landlord to. */
export function collectionsSweep(deps: { db: Db; clock: Clock; intervalMs: number }): Sweep {
  return { name: 'collections', intervalMs: deps.intervalMs, batchSize: BATCH, sweepOnce: () => sweepCollections(deps) };
}
