/**
 * Invoices bill the tenant's billing profile (issue #14): finalizing an invoice copies the profile onto it, so a
 * later edit of the profile never changes an invoice already issued.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { takeInvoiceNumber } from './invoices.repo.ts';

/**
 * The snapshot of the billing profile of the tenant `tenantId` (a column reference or value) as a jsonb value, null
 * without a profile. Both finalization paths — `numberInvoice` and the subscription writer's batch insert — use it,
 * so the snapshot has one shape.
 */
export function billedToSnapshot(tenantId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(select jsonb_build_object('name', p.name, 'company', p.company, 'email', p.email, 'address', p.address, 'vatId', p.vat_id)
    from billing_profiles p where p.tenant_id = ${tenantId})`;
}

/**
 * The finalization hook: takes the product's next invoice number (gapless, see `takeInvoiceNumber`) and, in the
 * same transaction, stores the tenant's billing profile on the invoice as `billed_to` (null when it has none).
 * Every path that numbers an invoice calls this, so no issued invoice misses its snapshot.
 */
export async function numberInvoice(db: Db, invoice: { id: string; productId: string }): Promise<number> {
  const number = await takeInvoiceNumber(db, invoice.productId);
  // One statement reading the profile as of this transaction: the invoice keeps exactly what was current.
  await sql`update invoices i set billed_to = ${billedToSnapshot(sql.ref('i.tenant_id'))} where i.id = ${invoice.id}`.execute(db);
  return number;
}
