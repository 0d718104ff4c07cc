import { type Caller, canSeeProduct, type Principal, requireRole } from '../access/principal.ts';
import { commerceNow } from '../commerce/billing-settings.ts';
import type { Db } from '../db/database.ts';
import type { TenantPageFilter } from '../db/tenant-page.ts';
import { AppError } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { toPage } from '../http/pagination.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';

/** Who may charge a tenant, and cancel its bills and recurring bills. */
export const WRITERS = ['super_admin', 'product_admin', 'client'] as const;

/** A tenant's billing row: a bill or a recurring bill. */
interface TenantRow {
  id: string;
  product_id: string;
  tenant_id: string;
  status: string;
}

/**
 * One kind of tenant billing row, as reading, listing and cancelling see it: how to find one and a tenant's page,
 * what its absence is called (`parameter` names the id), and the status past which it can no longer be cancelled.
 */
export interface TenantRowKind<Row extends TenantRow> {
  find(db: Db, id: string, options: { lock?: boolean }): Promise<Row | undefined>;
  findPage(db: Db, tenantId: string, filter: TenantPageFilter, limit: number): Promise<Row[]>;
  notFound: ErrorCode;
  parameter: string;
  /** The status that ends cancelling (`invoiced`, `expired`), and its 409. */
  done: { status: string; code: ErrorCode };
}

/**
 * Whether a tenant's billing row (a bill, a recurring bill) is the principal's to see: of its product, and of its
 * tenant when the principal acts for one tenant. One rule for both, so they answer 404 alike.
 */
export function canSeeTenantRow(principal: Principal, row: { product_id: string; tenant_id: string }): boolean {
  return canSeeProduct(principal, row.product_id) && !(principal.tenantId && principal.tenantId !== row.tenant_id);
}

/** A row of the kind by id, locked when asked: a malformed id, a missing row and one the principal may not see are the same 404. */
export async function visibleTenantRow<Row extends TenantRow>(
  db: Db,
  principal: Principal,
  kind: TenantRowKind<Row>,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Row> {
  const row = isUuid(id) ? await kind.find(db, id, options) : undefined;
  if (!row || !canSeeTenantRow(principal, row)) throw new AppError(kind.notFound, { parameter: kind.parameter });
  return row;
}

/** Which page of a tenant's rows: a status, the last id of the page before, how many. */
export type TenantRowsQuery = TenantPageFilter & { limit: number };

/** One page of a tenant's rows of the kind, newest first (the tenant as the principal sees it, else 404). */
export async function tenantRowsPage<Row extends TenantRow>(
  db: Db,
  principal: Principal,
  kind: TenantRowKind<Row>,
  tenantRef: string,
  query: TenantRowsQuery,
) {
  const tenant = await getVisibleTenant(db, principal, tenantRef);
  return toPage(await kind.findPage(db, tenant.id, query, query.limit), query.limit, (row) => row.id);
}

/**
 * Cancels a row of the kind for a writer: visible and locked; one already cancelled answers as it is (cancelling is
 * idempotent), one past cancelling is 409; else `cancel` writes it at the product's commerce time.
 */
export async function cancelTenantRow<Row extends TenantRow>(
  db: Db,
  clock: Clock,
  caller: Caller,
  kind: TenantRowKind<Row>,
  id: string,
  cancel: (row: Row, now: Date) => Promise<Row>,
): Promise<Row> {
  requireRole(caller.principal, ...WRITERS);
  const row = await visibleTenantRow(db, caller.principal, kind, id, { lock: true });
  if (row.status === 'cancelled') return row;
  if (row.status === kind.done.status) throw new AppError(kind.done.code, { parameter: kind.parameter });
  return cancel(row, await commerceNow(db, clock, row.product_id));
}
