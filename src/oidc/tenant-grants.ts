import type { Db } from '../db/database.ts';
import { turnBatch } from '../db/turn-batch.ts';
import { identitiesOfGrants, type SignedInIdentity } from '../identity/tenant-context.ts';

/** Records the tenant (membership) and Landlord session a grant was given for. */
export async function recordGrantTenant(
  db: Db,
  grant: { grantId: string; membershipId: string; sessionId: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('oidc_grant_tenants')
    .values({ grant_id: grant.grantId, membership_id: grant.membershipId, session_id: grant.sessionId, expires_at: grant.expiresAt })
    .onConflict((conflict) => conflict.column('grant_id').doUpdateSet({ membership_id: grant.membershipId, session_id: grant.sessionId }))
    .execute();
}

/** The membership and tenant a grant was given for. */
export async function grantTenant(db: Db, grantId: string) {
  const row = await db
    .selectFrom('oidc_grant_tenants')
    .innerJoin('memberships', 'memberships.id', 'oidc_grant_tenants.membership_id')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .select(['oidc_grant_tenants.membership_id', 'tenants.id as tenant_id', 'tenants.name as tenant_name'])
    .where('oidc_grant_tenants.grant_id', '=', grantId)
    .executeTakeFirst();
  return row ? { membershipId: row.membership_id, tenantId: row.tenant_id, tenantName: row.tenant_name } : undefined;
}

/**
 * Who a grant signs in, read now (undefined when its membership ended or its tenant is not live); the reads of
 * one turn of the event loop go as one statement.
 */
export function grantIdentities(db: Db): (grantId: string) => Promise<SignedInIdentity | undefined> {
  return turnBatch((grantIds: readonly string[]) => identitiesOfGrants(db, grantIds));
}

/** Ends every OIDC grant given under a Landlord session (its codes, tokens and refresh tokens). */
export async function revokeSessionGrants(db: Db, sessionId: string): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('grant_id', 'in', (eb) => eb.selectFrom('oidc_grant_tenants').select('grant_id').where('session_id', '=', sessionId))
    .execute();
}
