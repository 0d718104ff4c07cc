import type { Selectable } from 'kysely';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

/** Tables a tenant's rows are listed from by status, newest id first. */
export type TenantPagedTable = 'bills' | 'recurring_bills' | 'invoices';

/** The filters a tenant list takes: a status, and the page before a cursor's id. */
export interface TenantPageFilter {
  status?: string;
  beforeId?: string;
}

/**
 * One page of a tenant's rows of `table`, newest first (`limit + 1` rows, to tell whether more follow). Bills,
 * recurring bills and invoices are listed alike (uuid v7 ids order by creation), so one query serves them.
 */
export async function findTenantPage<T extends TenantPagedTable>(
  db: Db,
  table: T,
  tenantId: string,
  filter: TenantPageFilter,
  limit: number,
): Promise<Selectable<Database[T]>[]> {
  let query = db
    .selectFrom(table as TenantPagedTable)
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
  // The union of tables types the rows as the union's columns; they are `table`'s.
  return (await query.execute()) as Selectable<Database[T]>[];
}
