import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { USAGE_CHANNEL } from './usage-events.ts';

/**
 * A confirmed `reset` plan change ends, at `at` (commerce clock), every usage window of the
 * tenant that was still open then: the stored totals and reached thresholds of those windows
 * end there (so the limits sweep clears a reached limit, and overage bills the cut window,
 * as for any window that ended), and the windows from `at` on start afresh. Runs in the
 * transaction that applies the change; every node's entitlements cache forgets the tenant at
 * commit.
 */
export async function cutWindowsAtReset(db: Db, tenantId: string, at: Date): Promise<void> {
  await sql`update usage_totals set window_end = ${at}::timestamptz
    where tenant_id = ${tenantId}::uuid and window_start < ${at}::timestamptz
      and (window_end is null or window_end > ${at}::timestamptz)`.execute(db);
  await sql`update usage_crossings set window_end = ${at}::timestamptz
    where tenant_id = ${tenantId}::uuid and window_start < ${at}::timestamptz
      and (window_end is null or window_end > ${at}::timestamptz)`.execute(db);
  await sql`select pg_notify(${USAGE_CHANNEL}, ${tenantId}::text)`.execute(db);
}
