/**
 * A product's billing settings and its commerce clock. Every commerce rule of a product runs as of
 * `commerceNow`: real time, or — for a sandbox product — real time plus the offset an operator moved it ahead by.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { DEFAULT_BILLING_ZONE } from './calendar.ts';

/** How a product bills. A product without a stored row has the defaults. */
export interface BillingSettings {
  productId: string;
  timeZone: string;
  trialWillEndDays: number;
  sandbox: boolean;
  clockOffsetMs: number;
  version: number;
}

/** The settings a product bills with until an operator changes them. */
export function defaultBillingSettings(productId: string): BillingSettings {
  return { productId, timeZone: DEFAULT_BILLING_ZONE, trialWillEndDays: 3, sandbox: false, clockOffsetMs: 0, version: 0 };
}

/** A product's billing settings; `lock` locks the stored row (creating it first) for the rest of the transaction. */
export async function findBillingSettings(db: Db, productId: string, options: { lock?: boolean } = {}): Promise<BillingSettings> {
  if (options.lock) {
    await sql`insert into product_billing (product_id) values (${productId}) on conflict (product_id) do nothing`.execute(db);
  }
  let query = db.selectFrom('product_billing').selectAll().where('product_id', '=', productId);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return defaultBillingSettings(productId);
  return {
    productId,
    timeZone: row.time_zone,
    trialWillEndDays: row.trial_will_end_days,
    sandbox: row.sandbox,
    clockOffsetMs: row.clock_offset_ms,
    version: row.version,
  };
}

/** The product's commerce "now": the injected clock, moved ahead by a sandbox product's clock offset. */
export async function commerceNow(db: Db, clock: Clock, productId: string): Promise<Date> {
  const settings = await findBillingSettings(db, productId);
  return new Date(clock.now().getTime() + settings.clockOffsetMs);
}

/** Stores a product's billing settings (the row must be locked by `findBillingSettings(…, { lock: true })`). */
export async function saveBillingSettings(db: Db, settings: BillingSettings, now: Date): Promise<BillingSettings> {
  const row = await db
    .updateTable('product_billing')
    .set((eb) => ({
      time_zone: settings.timeZone,
      trial_will_end_days: settings.trialWillEndDays,
      sandbox: settings.sandbox,
      clock_offset_ms: settings.clockOffsetMs,
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('product_id', '=', settings.productId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...settings, version: row.version };
}
