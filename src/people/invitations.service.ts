import { hashSecret, isWellFormed } from '../access/credential-format.ts';
import type { Actor } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { newId } from '../platform/ids.ts';
import { findTenant } from '../tenants/tenants.repo.ts';
import { loadAccessModel } from './access-model.ts';
import * as repo from './memberships.repo.ts';
import { membershipConflict, type PeopleDeps, toMembershipView } from './memberships.service.ts';
import type { InvitationAcceptBody, MembershipView } from './people.schemas.ts';
import { recordNewUser } from './users.service.ts';

/**
 * Accepts an invitation with its token: the person joins the tenant with the roles and
 * permissions they were invited with. A person new to Landlord is created (their name
 * from the body, else from the invitation); one who exists by now is linked. The token
 * works once; an expired one is 410, an unknown or used one 404.
 */
export async function acceptInvitation(db: Db, deps: PeopleDeps, body: InvitationAcceptBody, requestId: string): Promise<MembershipView> {
  // A token without a valid checksum cannot be one Landlord issued: no need to ask the database.
  const invited = isWellFormed(body.token, 'llin') ? await repo.lockInvitation(db, hashSecret(body.token)) : undefined;
  if (!invited?.invited_email) throw new AppError('invitation.not_found', { parameter: 'token' });
  const now = deps.clock.now();
  if (invited.invitation_expires_at && invited.invitation_expires_at <= now) {
    throw new AppError('invitation.expired', {
      message: `The invitation expired at ${invited.invitation_expires_at.toISOString()}; ask for a new one`,
      parameter: 'token',
    });
  }
  const tenant = await findTenant(db, invited.tenant_id);
  if (!tenant || tenant.status === 'deleted')
    throw new AppError('tenant.deleted', { message: 'The tenant of this invitation is deleted', parameter: 'token' });
  let user = await repo.findUser(db, invited.invited_email);
  const actor = (id: string): Actor => ({ type: 'user', id, requestId });
  try {
    if (!user) {
      const fullName = body.fullName ?? invited.invited_name;
      if (!fullName)
        throw new AppError('request.invalid', { message: '"fullName" is required: the invitation names nobody', parameter: 'fullName' });
      const id = newId();
      user = await recordNewUser(db, actor(id), invited, {
        id,
        email: invited.invited_email,
        full_name: fullName,
        default_language: body.defaultLanguage ?? invited.invited_language,
        created_at: now,
        updated_at: now,
      });
    }
    await repo.updateMembership(db, invited.id, {
      user_id: user.id,
      status: 'active',
      invited_email: null,
      invited_name: null,
      invited_language: null,
      invitation_hash: null,
      invitation_expires_at: null,
      updated_at: now,
    });
  } catch (error) {
    throw membershipConflict(error, invited.login);
  }
  const record = await repo.findMembershipById(db, invited.id);
  if (!record) throw new Error('membership vanished inside its own transaction');
  const view = toMembershipView(record, await loadAccessModel(db, invited.product_id));
  await insertAuditRecord(db, actor(user.id), {
    action: 'membership.accept',
    objectType: 'membership',
    objectId: invited.id,
    productId: invited.product_id,
    tenantId: invited.tenant_id,
    after: view,
  });
  return view;
}
