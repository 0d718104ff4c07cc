import type { FastifyRequest } from 'fastify';
import { actorOf, type Caller, type Principal } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { MaestranoError } from './account-input.ts';
import { groupQuery } from './groups.repo.ts';
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
    ? await groupQuery(db).where('g.marketplace_id', '=', principal.id).where('g.number', '=', number).forUpdate('g').executeTakeFirst()
    : undefined;
  if (!row || row.deleted_at) throw new MaestranoError(400, { group_id: ['does not exist or cannot be charged by your service'] });
  return row;
}
