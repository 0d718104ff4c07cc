import { type Caller, type Principal, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { findPriceForProduct } from '../catalogue/prices.repo.ts';
import { commerceNow } from '../commerce/billing-settings.ts';
import { createSubscription } from '../commerce/subscriptions.service.ts';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import * as repo from './promo-codes.repo.ts';
import type { PromoCodeCreateBody, PromoCodeUpdateBody, PromoCodeView } from './promo-codes.schemas.ts';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** The API view of a promo code. */
export function toPromoCodeView(row: repo.PromoRecord): PromoCodeView {
  return {
    id: row.id,
    code: row.code,
    price: { id: row.price_id, name: row.price_name },
    durationDays: row.duration_days,
    activeFrom: iso(row.active_from),
    activeUntil: iso(row.active_until),
    maxRedemptions: row.max_redemptions,
    redemptions: row.redemptions,
    oncePerTenant: true,
    active: row.active,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function checkWindow(from: Date | null, until: Date | null): void {
  if (from && until && until.getTime() <= from.getTime())
    throw new AppError('request.invalid', { message: 'activeUntil must be after activeFrom', parameter: 'activeUntil' });
}

async function requireCode(db: Db, productId: string, code: string): Promise<repo.PromoRecord> {
  const row = await repo.findPromoCode(db, productId, code);
  if (!row) throw new AppError('promo_code.not_found', { parameter: 'code' });
  return row;
}

/** Defines a promo code for a product (operators): a published plan price granted for `durationDays`. */
export async function createPromoCode(db: Db, clock: Clock, caller: Caller, productRef: string, body: PromoCodeCreateBody) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const price = await findPriceForProduct(db, product.id, body.price);
  if (!price) throw new AppError('request.invalid', { message: `The product has no plan price "${body.price}"`, parameter: 'price' });
  if (!price.published || !price.plan_published) throw new AppError('price.not_published', { parameter: 'price' });
  const from = body.activeFrom ? new Date(body.activeFrom) : null;
  const until = body.activeUntil ? new Date(body.activeUntil) : null;
  checkWindow(from, until);
  const now = clock.now();
  const id = newId();
  try {
    await repo.insertPromoCode(db, {
      id,
      product_id: product.id,
      code: body.code,
      price_id: price.id,
      duration_days: body.durationDays,
      active_from: from,
      active_until: until,
      max_redemptions: body.maxRedemptions ?? null,
      active: body.active ?? true,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('promo_code.code_taken', { parameter: 'code' });
    throw error;
  }
  const view = toPromoCodeView(await requireCode(db, product.id, body.code));
  await insertAuditRecord(db, caller.actor, {
    action: 'promo_code.create',
    objectType: 'promo_code',
    objectId: id,
    productId: product.id,
    after: view,
  });
  return view;
}

/** A product's promo codes (operators of the product). */
export async function listPromoCodes(db: Db, principal: Principal, productRef: string) {
  requireRole(principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, principal, productRef);
  return (await repo.findPromoCodes(db, product.id)).map(toPromoCodeView);
}

/** One promo code. */
export async function getPromoCode(db: Db, principal: Principal, productRef: string, code: string) {
  requireRole(principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, principal, productRef);
  return toPromoCodeView(await requireCode(db, product.id, code));
}

/** Turns a code off or on, or changes its end or total. */
export async function updatePromoCode(db: Db, clock: Clock, caller: Caller, productRef: string, code: string, body: PromoCodeUpdateBody) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const current = await requireCode(db, product.id, code);
  const until = body.activeUntil === undefined ? current.active_until : body.activeUntil ? new Date(body.activeUntil) : null;
  checkWindow(current.active_from, until);
  const max = body.maxRedemptions === undefined ? current.max_redemptions : body.maxRedemptions;
  if (max !== null && max < current.redemptions)
    throw new AppError('request.invalid', { message: `It was redeemed ${current.redemptions} times already`, parameter: 'maxRedemptions' });
  await repo.updatePromoCode(db, current.id, {
    active: body.active ?? current.active,
    active_until: until,
    max_redemptions: max,
    updated_at: clock.now(),
  });
  const view = toPromoCodeView(await requireCode(db, product.id, code));
  await insertAuditRecord(db, caller.actor, {
    action: 'promo_code.update',
    objectType: 'promo_code',
    objectId: current.id,
    productId: product.id,
    before: toPromoCodeView(current),
    after: view,
  });
  return view;
}

/**
 * Redeems a code for a tenant (the caller checked its right to): active, within its
 * window (the product's commerce time), not redeemed by this tenant, not exhausted —
 * else a 4xx naming why. The tenant gets the code's plan price as a subscription whose
 * trial lasts `durationDays` and that does not renew. Call with the tenant locked.
 */
export async function redeemPromoCode(db: Db, clock: Clock, caller: Caller, tenant: { id: string; product_id: string }, code: string) {
  const promo = await repo.findPromoCode(db, tenant.product_id, code);
  if (!promo) throw new AppError('promo_code.not_found', { parameter: 'promocode' });
  const now = await commerceNow(db, clock, tenant.product_id);
  if (!promo.active) throw new AppError('promo_code.inactive', { parameter: 'promocode' });
  if (promo.active_from && now < promo.active_from) throw new AppError('promo_code.not_yet_valid', { parameter: 'promocode' });
  if (promo.active_until && now >= promo.active_until) throw new AppError('promo_code.expired', { parameter: 'promocode' });
  if (await repo.hasRedeemed(db, promo.id, tenant.id)) throw new AppError('promo_code.already_used', { parameter: 'promocode' });
  const live = await db
    .selectFrom('subscriptions')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('status', 'in', ['pending', 'trialing', 'active', 'past_due'])
    .executeTakeFirst();
  // A code on a subscribed tenant is a plan change: that waits for the plan-change service.
  if (live) throw new AppError('promo_code.subscription_exists', { parameter: 'promocode' });
  if (!(await repo.claimRedemption(db, promo.id, clock.now()))) throw new AppError('promo_code.exhausted', { parameter: 'promocode' });
  const subscription = await createSubscription(db, { clock }, caller, tenant.id, {
    price: promo.price_id,
    trialDays: promo.duration_days,
    autoRenew: false,
  });
  try {
    await repo.insertRedemption(db, {
      id: newId(),
      promo_code_id: promo.id,
      tenant_id: tenant.id,
      subscription_id: subscription.id,
      redeemed_at: now,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('promo_code.already_used', { parameter: 'promocode' });
    throw error;
  }
  await insertAuditRecord(db, caller.actor, {
    action: 'promo_code.redeem',
    objectType: 'promo_code',
    objectId: promo.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    after: { code: promo.code, subscriptionId: subscription.id },
  });
  return { promo, subscription };
}
