import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { SubscriptionChangesTable } from '../db/schema.ts';

/** A plan change row. */
export type ChangeRow = Selectable<SubscriptionChangesTable>;

/** The statuses of a change that is not over yet (at most one per subscription: a partial unique index). */
export const IN_FLIGHT = ['scheduled', 'calling', 'awaiting_report'] as const;

/** Inserts a change; a second one in flight for the subscription raises 23505 (`subscription_changes_one_in_flight`). */
export async function insertChange(db: Db, values: Insertable<SubscriptionChangesTable>): Promise<ChangeRow> {
  return db.insertInto('subscription_changes').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One change by id; `lock` locks it for the rest of the transaction. */
export async function findChange(db: Db, id: string, options: { lock?: boolean } = {}): Promise<ChangeRow | undefined> {
  let query = db.selectFrom('subscription_changes').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The subscription's change in flight, if any; `lock` locks it. */
export async function findChangeInFlight(db: Db, subscriptionId: string, options: { lock?: boolean } = {}): Promise<ChangeRow | undefined> {
  let query = db
    .selectFrom('subscription_changes')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('status', 'in', IN_FLIGHT);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The subscription's latest change (any status). */
export async function findLatestChange(db: Db, subscriptionId: string): Promise<ChangeRow | undefined> {
  return db
    .selectFrom('subscription_changes')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The last applied change into `priceId` in period `periodNumber` (its charge is what that price was billed for there). */
export async function findAppliedInto(db: Db, subscriptionId: string, priceId: string, periodNumber: number) {
  return db
    .selectFrom('subscription_changes')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('to_price_id', '=', priceId)
    .where('period_number', '=', periodNumber)
    .where('status', '=', 'applied')
    .where('timing', '=', 'now')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Updates a change (the caller holds it locked) and bumps its version. */
export async function updateChange(db: Db, id: string, values: Updateable<SubscriptionChangesTable>): Promise<ChangeRow> {
  return db
    .updateTable('subscription_changes')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One page of a subscription's changes, newest first (`limit + 1` rows). */
export async function findChanges(db: Db, subscriptionId: string, beforeId: string | undefined, limit: number): Promise<ChangeRow[]> {
  let query = db
    .selectFrom('subscription_changes')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (beforeId) query = query.where('id', '<', beforeId);
  return query.execute();
}

/** The name, amount, currency and cycle of a price (for a change's call body and view). */
export async function findPriceTerms(db: Db, priceId: string) {
  return db
    .selectFrom('plan_prices')
    .select(['id', 'name', 'cycle', 'custom_days', 'amount_minor', 'currency'])
    .where('id', '=', priceId)
    .executeTakeFirst();
}

/** What a confirmed change writes on its (locked) subscription: the price it bills, and the cycle's anchor. */
export interface SubscriptionPriceUpdate {
  price_id: string;
  amount_minor: number;
  currency: string;
  cycle_unit: string | null;
  cycle_count: number | null;
  anchor_at: Date;
  anchor_number: number;
}

/** Moves a locked subscription onto another price (bumping its version). */
export async function updateSubscriptionPrice(db: Db, id: string, values: SubscriptionPriceUpdate, now: Date) {
  return db
    .updateTable('subscriptions')
    .set((eb) => ({ ...values, version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** What period `number` of a subscription charged (null when it has no such period). */
export async function findPeriodCharge(db: Db, subscriptionId: string, number: number) {
  return db
    .selectFrom('subscription_periods')
    .select(['amount_minor', 'trial', 'price_id'])
    .where('subscription_id', '=', subscriptionId)
    .where('number', '=', number)
    .executeTakeFirst();
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
    .where('status', 'in', IN_FLIGHT)
    .execute();
  return new Map(rows.map((row) => [row.subscription_id, row.effective_at]));
}

/** When the subscription's usage windows last restarted (its latest applied reset, on the commerce clock), or null. */
export async function findLastReset(db: Db, subscriptionId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('subscription_changes')
    .select('effective_at')
    .where('subscription_id', '=', subscriptionId)
    .where('kind', '=', 'reset')
    .where('status', '=', 'applied')
    .orderBy('effective_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.effective_at ?? null;
}
