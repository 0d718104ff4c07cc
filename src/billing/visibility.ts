import { canSeeProduct, type Principal } from '../access/principal.ts';

/**
 * Whether a tenant's billing row (a bill, a recurring bill) is the principal's to see: of its product, and of its
 * tenant when the principal acts for one tenant. One rule for both, so they answer 404 alike.
 */
export function canSeeTenantRow(principal: Principal, row: { product_id: string; tenant_id: string }): boolean {
  return canSeeProduct(principal, row.product_id) && !(principal.tenantId && principal.tenantId !== row.tenant_id);
}
