import { sql } from 'kysely';
import type { Principal } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';

/** Filters of `GET /v1/subscriptions`. */
export interface SubscriptionListQuery {
  product?: string;
  status?: string;
  renewingBefore?: string;
  pastDue?: boolean;
  cursor?: string;
  limit: number;
}

/** Filters of `GET /v1/invoices`. */
export interface InvoiceListFilter {
  product?: string;
  tenant?: string;
  status?: string;
  currency?: string;
  overdue?: boolean;
  cursor?: string;
  limit: number;
}

// The product a list is scoped to: the one named (404 when the caller may not see it), else the caller's own
// (a product's client sees only its product); an operator without a filter sees every product.
async function scopeOf(db: Db, principal: Principal, product: string | undefined): Promise<string | undefined> {
  if (product) return (await getVisibleProduct(db, principal, product)).id;
  return principal.productId ?? undefined;
}

/**
 * One page of subscriptions, newest first, across the caller's products. Walks `subscriptions_product_idx`
 * (product, id) backwards when scoped to a product, the primary key otherwise; the filters narrow that walk.
 */
export async function listSubscriptions(db: Db, principal: Principal, query: SubscriptionListQuery) {
  const beforeId = decodeCursor(query.cursor, UUID_KEY);
  const productId = await scopeOf(db, principal, query.product);
  let select = db
    .selectFrom('subscriptions as s')
    .leftJoin('plan_prices as p', 'p.id', 's.price_id')
    .selectAll('s')
    .select('p.name as price_name')
    .orderBy('s.id', 'desc')
    .limit(query.limit + 1);
  if (productId) select = select.where('s.product_id', '=', productId);
  if (beforeId) select = select.where('s.id', '<', beforeId);
  if (query.status) select = select.where('s.status', '=', query.status);
  if (query.pastDue !== undefined) select = select.where('s.status', query.pastDue ? '=' : '<>', 'past_due');
  if (query.renewingBefore) {
    // Renewing: live, renewing automatically, no cancellation scheduled, its period ending before the instant.
    select = select
      .where('s.status', 'in', ['trialing', 'active', 'past_due'])
      .where('s.auto_renew', '=', true)
      .where('s.cancel_at', 'is', null)
      .where('s.current_period_end', '<', new Date(query.renewingBefore));
  }
  return toPage(await select.execute(), query.limit, (row) => row.id);
}

/**
 * One page of invoices, newest first. Scoped to a tenant it walks `invoices_tenant_idx`, to a product
 * `invoices_product_idx`. Overdue: open, something left to pay, finalized longer ago than the product's
 * collection grace (7 days without a payment provider) on the product's commerce clock — the rule
 * collections apply.
 */
export async function listInvoices(db: Db, principal: Principal, now: Date, filter: InvoiceListFilter) {
  const beforeId = decodeCursor(filter.cursor, UUID_KEY);
  const productId = await scopeOf(db, principal, filter.product);
  const tenantId = filter.tenant ? (await getVisibleTenant(db, principal, filter.tenant)).id : undefined;
  let select = db
    .selectFrom('invoices as i')
    .selectAll('i')
    .orderBy('i.id', 'desc')
    .limit(filter.limit + 1);
  if (productId) select = select.where('i.product_id', '=', productId);
  if (tenantId) select = select.where('i.tenant_id', '=', tenantId);
  if (beforeId) select = select.where('i.id', '<', beforeId);
  if (filter.status) select = select.where('i.status', '=', filter.status);
  if (filter.currency) select = select.where('i.currency', '=', filter.currency);
  if (filter.overdue !== undefined) {
    const overdue = sql<boolean>`(i.status = 'open' and i.total_minor > i.paid_minor and i.finalized_at
      + coalesce((select g.grace_days from payment_providers g where g.product_id = i.product_id), 7) * interval '1 day'
      <= ${now}::timestamptz + coalesce((select b.clock_offset_ms from product_billing b where b.product_id = i.product_id), 0) * interval '1 millisecond')`;
    select = select.where(filter.overdue ? overdue : sql<boolean>`not ${overdue}`);
  }
  return toPage(await select.execute(), filter.limit, (row) => row.id);
}
