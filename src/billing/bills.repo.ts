import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { BillsTable, RecurringBillsTable } from '../db/schema.ts';
import { findTenantPage, type TenantPageFilter } from '../db/tenant-page.ts';

export type BillRow = Selectable<BillsTable>;
export type RecurringBillRow = Selectable<RecurringBillsTable>;

/** Inserts a bill; a second bill for one execution of a recurring bill raises 23505. */
export async function insertBill(db: Db, values: Insertable<BillsTable>): Promise<BillRow> {
  return db.insertInto('bills').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One bill by id; `lock` locks it. */
export async function findBill(db: Db, id: string, options: { lock?: boolean } = {}): Promise<BillRow | undefined> {
  let query = db.selectFrom('bills').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Updates a bill (held locked) and bumps its version. */
export async function updateBill(db: Db, id: string, values: Updateable<BillsTable>): Promise<BillRow> {
  return db
    .updateTable('bills')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One page of a tenant's bills, newest first (`limit + 1` rows). */
export async function findBills(db: Db, tenantId: string, filter: TenantPageFilter, limit: number): Promise<BillRow[]> {
  return findTenantPage(db, 'bills', tenantId, filter, limit);
}

/** Inserts a recurring bill. */
export async function insertRecurringBill(db: Db, values: Insertable<RecurringBillsTable>): Promise<RecurringBillRow> {
  return db.insertInto('recurring_bills').values(values).returningAll().executeTakeFirstOrThrow();
}

/** One recurring bill by id; `lock` locks it. */
export async function findRecurringBill(db: Db, id: string, options: { lock?: boolean } = {}): Promise<RecurringBillRow | undefined> {
  let query = db.selectFrom('recurring_bills').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Updates a recurring bill (held locked) and bumps its version. */
export async function updateRecurringBill(db: Db, id: string, values: Updateable<RecurringBillsTable>): Promise<RecurringBillRow> {
  return db
    .updateTable('recurring_bills')
    .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** One page of a tenant's recurring bills, newest first (`limit + 1` rows). */
export async function findRecurringBills(db: Db, tenantId: string, filter: TenantPageFilter, limit: number): Promise<RecurringBillRow[]> {
  return findTenantPage(db, 'recurring_bills', tenantId, filter, limit);
}
