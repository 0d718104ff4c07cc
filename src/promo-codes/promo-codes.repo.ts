import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { PromoCodesTable } from '../db/schema.ts';

function promoQuery(db: Db) {
  return db
    .selectFrom('promo_codes')
    .innerJoin('plan_prices', 'plan_prices.id', 'promo_codes.price_id')
    .selectAll('promo_codes')
    .select(['plan_prices.name as price_name', 'plan_prices.plan_id']);
}

/** A promo code with its price's name and plan. */
export type PromoRecord = Awaited<ReturnType<ReturnType<typeof promoQuery>['executeTakeFirstOrThrow']>>;

/** A product's promo code by code, ignoring case. */
export async function findPromoCode(db: Db, productId: string, code: string): Promise<PromoRecord | undefined> {
  return promoQuery(db)
    .where('promo_codes.product_id', '=', productId)
    .where((eb) => eb(eb.fn('lower', ['promo_codes.code']), '=', code.toLowerCase()))
    .executeTakeFirst();
}

/** A product's promo codes, newest first. */
export async function findPromoCodes(db: Db, productId: string): Promise<PromoRecord[]> {
  return promoQuery(db).where('promo_codes.product_id', '=', productId).orderBy('promo_codes.created_at', 'desc').limit(1000).execute();
}

/** Inserts a promo code; a taken code raises 23505 (promo_codes_code_idx). */
export async function insertPromoCode(db: Db, values: Insertable<PromoCodesTable>): Promise<void> {
  await db.insertInto('promo_codes').values(values).execute();
}

/** Changes a promo code. */
export async function updatePromoCode(db: Db, id: string, values: Updateable<PromoCodesTable>): Promise<void> {
  await db.updateTable('promo_codes').set(values).where('id', '=', id).execute();
}

/** Counts one redemption unless the code is exhausted: false when it was (one statement, so never over the total). */
export async function claimRedemption(db: Db, id: string, now: Date): Promise<boolean> {
  const row = await db
    .updateTable('promo_codes')
    .set((eb) => ({ redemptions: eb('redemptions', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where((eb) => eb.or([eb('max_redemptions', 'is', null), eb('redemptions', '<', eb.ref('max_redemptions'))]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** True when the tenant has redeemed the code. */
export async function hasRedeemed(db: Db, promoId: string, tenantId: string): Promise<boolean> {
  const row = await db
    .selectFrom('promo_redemptions')
    .select('id')
    .where('promo_code_id', '=', promoId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Records a redemption; a second one of the same tenant raises 23505. */
export async function insertRedemption(
  db: Db,
  values: { id: string; promo_code_id: string; tenant_id: string; subscription_id: string; redeemed_at: Date },
) {
  await db.insertInto('promo_redemptions').values(values).execute();
}
