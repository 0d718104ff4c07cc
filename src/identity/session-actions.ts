import type { Actor } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { revokeSessionGrants } from '../oidc/tenant-grants.ts';
import type { Clock } from '../platform/clock.ts';
import { revokeSession } from '../sessions/session-store.ts';

/**
 * Ends a tenant user's session (sign-out, a revocation by the user or their product) and
 * records `session.revoked`; every grant and channel check tied to it ends with it.
 * Returns false when it had ended already.
 */
export async function endUserSession(
  db: Db,
  clock: Clock,
  actor: Actor,
  session: { id: string; userId: string; productId: string | null },
  reason: 'signed_out' | 'revoked' | 'revoked_by_product',
): Promise<boolean> {
  if (!(await revokeSession(db, clock, session.id, reason))) return false;
  await revokeSessionGrants(db, session.id);
  await insertAuditRecord(db, actor, {
    action: 'session.revoke',
    objectType: 'session',
    objectId: session.id,
    productId: session.productId,
    after: { id: session.id, user: session.userId, reason },
  });
  return true;
}
