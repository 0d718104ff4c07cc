import type { FastifyRequest } from 'fastify';
import { type RawBuilder, sql } from 'kysely';
import { actorOf, type Caller, type Principal } from '../access/principal.ts';
import { type ChargeContext, chargeContextSelect } from '../billing/bills.repo.ts';
import { type Db, executePrepared, hotStatement } from '../db/database.ts';
import { MaestranoError } from './account-input.ts';
import { numberOf } from './maestrano-format.ts';

/** `{"success": true, "errors": {}, "data": …}`. */
export const success = (data: unknown) => ({ success: true, errors: {}, data });

/** The caller of an account API request: the marketplace. */
export function accountCaller(request: FastifyRequest): Caller {
  const principal = request.principal as Principal;
  return { principal, actor: actorOf(principal, request.id) };
}

/** `{"id": ["does not exist"]}` with 404. */
export const doesNotExist = () => new MaestranoError(404, { id: ['does not exist'] });

/** The 400 of a group the marketplace cannot charge, as Maestrano words it. */
export const notChargeable = () => new MaestranoError(400, { group_id: ['does not exist or cannot be charged by your service'] });

/** The marketplace's undeleted group `uid` (locked, in a transaction), or a 400 naming `group_id`. */
export async function chargeableGroup(db: Db, principal: Principal, uid: string | undefined) {
  const number = uid ? numberOf('cld', uid) : undefined;
  const row = number
    ? // Locked: a bill and the group's deletion do not pass each other.
      (
        await executePrepared(
          db,
          // The tenant's product and status come along: charging it needs them, and they cost no round trip here.
          sql<{ tenant_id: string; number: number; currency: string; deleted_at: Date | null; product_id: string; status: string }>`
            select g.tenant_id, g.number, g.currency, g.deleted_at, t.product_id, t.status
            from marketplace_groups g join tenants t on t.id = g.tenant_id
            where g.marketplace_id = ${principal.id}::uuid and g.number = ${number}
            for update of g`,
        )
      )[0]
    : undefined;
  if (!row || row.deleted_at) throw notChargeable();
  return row;
}

/**
 * The marketplace's undeleted group `uid` with its tenant and the tenant's charge context, in one
 * statement and unlocked (a 400 naming `group_id` otherwise): what a one-off bill reads. The bill's
 * write re-checks the group under its lock ({@link groupStillChargeable}), so no transaction is needed.
 */
export async function billableGroup(db: Db, principal: Principal, uid: string | undefined) {
  const number = uid ? numberOf('cld', uid) : undefined;
  const [row] = number ? await billableGroupStatement(db, { marketplaceId: principal.id, number }) : [];
  if (!row) throw notChargeable();
  return row;
}

// The account API's bill read: built once.
const billableGroupStatement = hotStatement(
  (_on, p: { marketplaceId: string; number: number }) =>
    sql<{ tenant_id: string; number: number; currency: string; product_id: string; status: string } & ChargeContext>`
      select g.tenant_id, g.number, g.currency, t.product_id, t.status, charge.*
      from marketplace_groups g join tenants t on t.id = g.tenant_id
      left join lateral (${chargeContextSelect(sql`g.tenant_id`, sql`t.product_id`)}) as charge on true
      where g.marketplace_id = ${p.marketplaceId}::uuid and g.number = ${p.number} and g.deleted_at is null`,
);

/**
 * The group, locked, if it is still the marketplace's and undeleted: the guard of a bill's write. Taken
 * before the tenant's row, as a group's deletion takes them, and it waits for a deletion in progress.
 */
export function groupStillChargeable(principal: Principal, tenantId: string): RawBuilder<unknown> {
  return sql`select 1 from marketplace_groups
    where tenant_id = ${tenantId}::uuid and marketplace_id = ${principal.id}::uuid and deleted_at is null for update`;
}
