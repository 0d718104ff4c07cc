import { type Insertable, sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { InvoiceLinesTable, InvoicesTable } from '../db/schema.ts';
import { findTenantPage, type TenantPageFilter } from '../db/tenant-page.ts';

/** An invoice row. */
export type InvoiceRow = Awaited<ReturnType<typeof findInvoice>> & {};

/** One invoice by id; `lock` locks it for the rest of the transaction. */
export async function findInvoice(db: Db, id: string, options: { lock?: boolean } = {}) {
  let query = db.selectFrom('invoices').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** An invoice's lines in the order they were added. */
export async function findInvoiceLines(db: Db, invoiceId: string) {
  return db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', invoiceId).orderBy('id').execute();
}

/** An invoice's payments in the order they were recorded. */
export async function findPayments(db: Db, invoiceId: string) {
  return db.selectFrom('payments').selectAll().where('invoice_id', '=', invoiceId).orderBy('id').execute();
}

/** One page of a tenant's invoices, newest first (`limit + 1` rows). */
export async function findTenantInvoices(db: Db, tenantId: string, filter: TenantPageFilter, limit: number) {
  return findTenantPage(db, 'invoices', tenantId, filter, limit);
}

/** Inserts a draft invoice (no number until it is finalized); other features add lines to it. */
export async function insertDraftInvoice(db: Db, values: Insertable<InvoicesTable>) {
  return db.insertInto('invoices').values(values).returningAll().executeTakeFirstOrThrow();
}

/**
 * Adds a line to a draft invoice and its amount to the total. `source_key` (`bill:<id>`, `proration:<change id>`…)
 * is unique: a source is billed on one line, once.
 */
export async function insertInvoiceLine(db: Db, values: Insertable<InvoiceLinesTable>): Promise<void> {
  await db.insertInto('invoice_lines').values(values).execute();
  await db
    .updateTable('invoices')
    .set((eb) => ({ total_minor: eb('total_minor', '+', values.amount_minor) }))
    .where('id', '=', values.invoice_id)
    .execute();
}

/** The next invoice number of a product; the counter row stays locked until the transaction ends (no gaps). */
export async function takeInvoiceNumber(db: Db, productId: string): Promise<number> {
  const result = await sql<{ last_number: number }>`
    insert into invoice_counters as c (product_id, last_number) values (${productId}, 1)
    on conflict (product_id) do update set last_number = c.last_number + 1
    returning last_number`.execute(db);
  const number = result.rows[0]?.last_number;
  if (number === undefined) throw new Error('no invoice number');
  return number;
}
