import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { BillsTable, RecurringBillsTable } from '../db/schema.ts';

/** A bill with its tenant's name, its group number (when the tenant is a marketplace group) and its recurring bill's number. */
export function billQuery(db: Db) {
  return db
    .selectFrom('bills')
    .innerJoin('tenants', 'tenants.id', 'bills.tenant_id')
    .leftJoin('marketplace_groups as g', 'g.tenant_id', 'bills.tenant_id')
    .leftJoin('recurring_bills as rb', 'rb.id', 'bills.recurring_bill_id')
    .selectAll('bills')
    .select(['tenants.name as tenant_name', 'g.number as group_number', 'g.marketplace_id', 'rb.number as recurring_number']);
}
/** A bill as `billQuery` reads it. */
export type BillRecord = Awaited<ReturnType<ReturnType<typeof billQuery>['executeTakeFirstOrThrow']>>;

/** A recurring bill with its tenant's name and its group number. */
export function recurringBillQuery(db: Db) {
  return db
    .selectFrom('recurring_bills')
    .innerJoin('tenants', 'tenants.id', 'recurring_bills.tenant_id')
    .leftJoin('marketplace_groups as g', 'g.tenant_id', 'recurring_bills.tenant_id')
    .selectAll('recurring_bills')
    .select(['tenants.name as tenant_name', 'g.number as group_number', 'g.marketplace_id']);
}
/** A recurring bill as `recurringBillQuery` reads it. */
export type RecurringBillRecord = Awaited<ReturnType<ReturnType<typeof recurringBillQuery>['executeTakeFirstOrThrow']>>;

/** Inserts a bill; returns its id. */
export async function insertBill(db: Db, values: Insertable<BillsTable>): Promise<string> {
  await db.insertInto('bills').values(values).execute();
  return values.id;
}

/** Inserts a recurring bill. */
export async function insertRecurringBill(db: Db, values: Insertable<RecurringBillsTable>): Promise<void> {
  await db.insertInto('recurring_bills').values(values).execute();
}

/** A recurring bill row, locked (skipping one another node holds). */
export async function lockRecurringBill(db: Db, id: string, skipLocked = false): Promise<Selectable<RecurringBillsTable> | undefined> {
  let query = db.selectFrom('recurring_bills').selectAll().where('id', '=', id).forUpdate();
  if (skipLocked) query = query.skipLocked();
  return query.executeTakeFirst();
}

/**
 * The currency a bill of the tenant takes when none is given: its marketplace group's, else
 * its live subscription's; undefined when it has neither.
 */
export async function defaultCurrency(db: Db, tenantId: string): Promise<string | undefined> {
  const group = await db.selectFrom('marketplace_groups').select('currency').where('tenant_id', '=', tenantId).executeTakeFirst();
  if (group) return group.currency;
  const subscription = await db
    .selectFrom('subscriptions')
    .select('currency')
    .where('tenant_id', '=', tenantId)
    .where('status', 'in', ['pending', 'trialing', 'active', 'past_due'])
    .executeTakeFirst();
  return subscription?.currency;
}
