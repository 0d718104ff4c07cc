import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { actorOf, type Caller, type Principal } from '../access/principal.ts';
import { type Db, executePrepared } from '../db/database.ts';
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

/** The marketplace's undeleted group `uid`, or a 400 naming `group_id` as Maestrano words it. */
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
  if (!row || row.deleted_at) throw new MaestranoError(400, { group_id: ['does not exist or cannot be charged by your service'] });
  return row;
}
