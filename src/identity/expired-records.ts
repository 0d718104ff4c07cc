import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';

const BATCH = 500;
// Ended sessions stay listed in the audit log; the rows are kept a day for support questions.
const KEEP_ENDED_MS = 86_400_000;

/**
 * Deletes identity records that can no longer be used: expired OIDC provider records,
 * grant tenants, SAML requests, password links, throttle entries past their window, and
 * sessions a day after they ended. One batch of each per call (rows locked with
 * `SKIP LOCKED`, so several nodes never delete the same row twice); returns how many rows went.
 */
export async function deleteExpiredIdentityRecords(db: Db, clock: Clock): Promise<number> {
  const now = clock.now();
  const keepFrom = new Date(now.getTime() - KEEP_ENDED_MS);
  const statements = [
    sql`delete from oidc_payloads where ctid in (select ctid from oidc_payloads where expires_at < ${now} limit ${BATCH} for update skip locked)`,
    sql`delete from oidc_grant_tenants where grant_id in (select grant_id from oidc_grant_tenants where expires_at < ${now} limit ${BATCH} for update skip locked)`,
    sql`delete from saml_requests where id in (select id from saml_requests where expires_at < ${keepFrom} limit ${BATCH} for update skip locked)`,
    sql`delete from password_links where id in (select id from password_links where expires_at < ${keepFrom} limit ${BATCH} for update skip locked)`,
    sql`delete from sign_in_throttle where key in (select key from sign_in_throttle
      where window_started_at < ${keepFrom} and (blocked_until is null or blocked_until < ${now}) limit ${BATCH} for update skip locked)`,
    sql`delete from sessions where id in (select id from sessions
      where absolute_expires_at < ${keepFrom} or idle_expires_at < ${keepFrom} or revoked_at < ${keepFrom} limit ${BATCH} for update skip locked)`,
  ];
  let deleted = 0;
  let fullest = 0;
  for (const statement of statements) {
    const result = await statement.execute(db);
    const count = Number(result.numAffectedRows ?? 0);
    deleted += count;
    fullest = Math.max(fullest, count);
  }
  // The sweeper runs again at once while a batch comes back full.
  return fullest >= BATCH ? BATCH : Math.min(deleted, BATCH - 1);
}

/** The sweep that deletes expired identity records (every minute). */
export function expiredIdentityRecordsSweep(deps: { db: Db; clock: Clock }): Sweep {
  return {
    name: 'expired-identity-records',
    intervalMs: 60_000,
    batchSize: BATCH,
    sweepOnce: () => deleteExpiredIdentityRecords(deps.db, deps.clock),
  };
}
