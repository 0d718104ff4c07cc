import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Plan changes waiting for the product's backend (called, or called and waiting for the report), oldest first. */
export async function findWaitingChanges(db: Db, productId: string | null, limit: number) {
  let query = db
    .selectFrom('subscription_changes as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['c.id', 'c.kind', 'c.status', 'c.report_due_at', 'c.created_at', 't.id as tenant_id', 't.name as tenant_name'])
    .where('c.status', 'in', ['calling', 'awaiting_report'])
    .orderBy('c.created_at')
    .limit(limit);
  if (productId) query = query.where('c.product_id', '=', productId);
  return query.execute();
}

/** Live subscriptions whose last renewal failed (the engine keeps retrying), the longest failing first. */
export async function findFailingRenewals(db: Db, productId: string | null, limit: number) {
  let query = db
    .selectFrom('subscriptions as s')
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .select(['s.renewal_failures', 's.renewal_failed_at', 's.renewal_error', 't.id as tenant_id', 't.name as tenant_name'])
    .where('s.renewal_failures', '>', 0)
    .where('s.status', 'in', ['active', 'trialing', 'past_due', 'pending'])
    .orderBy('s.renewal_failed_at')
    .limit(limit);
  if (productId) query = query.where('s.product_id', '=', productId);
  return query.execute();
}

/**
 * Past-due invoices: open, not fully paid, of a subscription the collections sweep made
 * `past_due` (it alone judges overdue, with the product's grace period and clock).
 */
export async function findPastDueInvoices(db: Db, productId: string | null, limit: number) {
  let query = db
    .selectFrom('invoices as i')
    .innerJoin('subscriptions as s', 's.id', 'i.subscription_id')
    .innerJoin('tenants as t', 't.id', 'i.tenant_id')
    .select([
      'i.id',
      'i.number',
      'i.currency',
      sql<number>`i.total_minor - i.paid_minor`.as('due'),
      'i.finalized_at',
      't.id as tenant_id',
      't.name as tenant_name',
    ])
    .where('i.status', '=', 'open')
    .where(sql<boolean>`i.total_minor > i.paid_minor`)
    .where('s.status', '=', 'past_due')
    .orderBy('i.finalized_at')
    .limit(limit);
  if (productId) query = query.where('i.product_id', '=', productId);
  return query.execute();
}
