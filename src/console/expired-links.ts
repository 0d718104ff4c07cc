import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';

const BATCH = 500;
// A link is kept a day past its expiry, for support questions ("was my link used?").
const KEEP_MS = 86_400_000;

/** Deletes one batch of console links that expired a day ago (`SKIP LOCKED`: nodes never delete a row twice). */
export async function deleteExpiredConsoleLinks(db: Db, clock: Clock): Promise<number> {
  const before = new Date(clock.now().getTime() - KEEP_MS);
  const result = await sql`delete from console_links where id in (
      select id from console_links where expires_at < ${before} limit ${BATCH} for update skip locked)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The sweep that deletes expired console links (every 10 minutes). */
export function expiredConsoleLinksSweep(deps: { db: Db; clock: Clock }): Sweep {
  return {
    name: 'expired-console-links',
    intervalMs: 600_000,
    batchSize: BATCH,
    sweepOnce: () => deleteExpiredConsoleLinks(deps.db, deps.clock),
  };
}
