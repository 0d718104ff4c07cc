import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** The invoice list's filters; `productId` is the caller's product for a product-scoped operator. */
export interface InvoiceFilter {
  productId?: string;
  status?: string;
  currency?: string;
  tenantId?: string;
}

function filtered(db: Db, filter: InvoiceFilter) {
  let query = db.selectFrom('invoices').innerJoin('tenants', 'tenants.id', 'invoices.tenant_id');
  if (filter.productId) query = query.where('invoices.product_id', '=', filter.productId);
  if (filter.status) query = query.where('invoices.status', '=', filter.status);
  if (filter.currency) query = query.where('invoices.currency', '=', filter.currency);
  if (filter.tenantId) query = query.where('invoices.tenant_id', '=', filter.tenantId);
  return query;
}

/** Invoices across tenants, newest first (`limit + 1` rows, to tell whether more follow), with the tenant's name. */
export async function findInvoices(db: Db, filter: InvoiceFilter & { beforeId?: string }, limit: number) {
  let query = filtered(db, filter)
    .select([
      'invoices.id',
      'invoices.tenant_id',
      'invoices.status',
      'invoices.number',
      'invoices.currency',
      'invoices.total_minor',
      'invoices.paid_minor',
      'invoices.created_at',
      'tenants.name as tenant_name',
    ])
    .orderBy('invoices.id', 'desc')
    .limit(limit + 1);
  if (filter.beforeId) query = query.where('invoices.id', '<', filter.beforeId);
  return query.execute();
}

/** Totals per currency of the invoices the filter matches (void ones count nothing due). */
export async function invoiceTotals(db: Db, filter: InvoiceFilter) {
  return filtered(db, filter)
    .select([
      'invoices.currency',
      sql<number>`count(*)::int`.as('count'),
      sql<string>`sum(invoices.total_minor) filter (where invoices.status <> 'void')`.as('total'),
      sql<string>`sum(greatest(invoices.total_minor - invoices.paid_minor, 0)) filter (where invoices.status = 'open')`.as('due'),
    ])
    .groupBy('invoices.currency')
    .orderBy('invoices.currency')
    .execute();
}

/** The currencies invoices were written in (of one product, or all): the currency filter's choices. */
export async function invoiceCurrencies(db: Db, productId: string | undefined): Promise<string[]> {
  let query = db.selectFrom('invoices').select('currency').distinct().orderBy('currency').limit(100);
  if (productId) query = query.where('product_id', '=', productId);
  return (await query.execute()).map((row) => row.currency);
}
