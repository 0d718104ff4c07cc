import type { Db } from '../db/database.ts';

/** The product's bills as a marketplace sees them: only its groups', with the group's number. */
export function marketplaceBillQuery(db: Db, marketplaceId: string) {
  return db
    .selectFrom('bills')
    .innerJoin('marketplace_groups as g', 'g.tenant_id', 'bills.tenant_id')
    .selectAll('bills')
    .select('g.number as group_number')
    .where('g.marketplace_id', '=', marketplaceId);
}
/** A bill as `marketplaceBillQuery` reads it. */
export type MarketplaceBill = Awaited<ReturnType<ReturnType<typeof marketplaceBillQuery>['executeTakeFirstOrThrow']>>;

/** The product's recurring bills as a marketplace sees them: only its groups', with the group's number. */
export function marketplaceRecurringBillQuery(db: Db, marketplaceId: string) {
  return db
    .selectFrom('recurring_bills')
    .innerJoin('marketplace_groups as g', 'g.tenant_id', 'recurring_bills.tenant_id')
    .selectAll('recurring_bills')
    .select('g.number as group_number')
    .where('g.marketplace_id', '=', marketplaceId);
}
/** A recurring bill as `marketplaceRecurringBillQuery` reads it. */
export type MarketplaceRecurringBill = Awaited<ReturnType<ReturnType<typeof marketplaceRecurringBillQuery>['executeTakeFirstOrThrow']>>;
