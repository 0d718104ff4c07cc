import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { executePrepared } from '../db/database.ts';
import type { CallJob } from './call-kind.ts';

/**
 * Whether this attempt's outcome is already recorded: the job runs a second time because its
 * first run's completion was lost (the process died after recording the outcome, before
 * graphile-worker deleted the job). Such a run has nothing left to do.
 */
export async function isAttemptFinished(db: Db, job: CallJob): Promise<boolean> {
  const rows = await executePrepared(
    db,
    db
      .selectFrom('backend_call_attempts')
      .select(sql<number>`1`.as('finished'))
      .where('step_id', '=', job.stepId)
      .where('kind', '=', job.event)
      .where('finished_attempt', '>=', job.attempt),
  );
  return rows.length > 0;
}

/**
 * Claims the recording of this attempt's outcome in `tx`, the transaction that records it:
 * false when another run of the same attempt (or a later one) already did, and then `tx`
 * must record nothing. Two runs at once meet on the row: the second waits for the first
 * and finds the attempt finished.
 */
export async function finishAttempt(tx: Db, job: CallJob, at: Date): Promise<boolean> {
  const rows = await executePrepared(
    tx,
    sql<{ claimed: number }>`insert into backend_call_attempts (step_id, kind, finished_attempt, finished_at)
      values (${job.stepId}::uuid, ${job.event}, ${job.attempt}::int, ${at}::timestamptz)
      on conflict (step_id, kind) do update set finished_attempt = excluded.finished_attempt, finished_at = excluded.finished_at
        where backend_call_attempts.finished_attempt < excluded.finished_attempt
      returning 1 as claimed`,
  );
  return rows.length > 0;
}

/**
 * How long a call's progress is kept. A job runs again only after a crash, once the dead
 * node's jobs are handed back (seconds to minutes later); a week leaves room for a
 * cluster that was down for days.
 */
export const CALL_ATTEMPTS_KEPT_MS = 7 * 24 * 3600 * 1000;

/** Forgets the progress of calls whose last attempt finished longer than {@link CALL_ATTEMPTS_KEPT_MS} ago. */
export async function pruneCallAttempts(db: Db, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('backend_call_attempts')
    .where('finished_at', '<', new Date(now.getTime() - CALL_ATTEMPTS_KEPT_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
