import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Options of one background job. */
export interface JobOptions {
  /** Jobs with the same queue name run one at a time, in order (e.g. one tenant's calls). */
  queueName?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** A job with the same key replaces a pending one instead of adding another. */
  jobKey?: string;
  priority?: number;
}

/**
 * Adds a graphile-worker job. Pass the transaction of the change that causes the
 * job: the job exists exactly when the change committed.
 */
export async function enqueueJob(db: Db, task: string, payload: unknown, options: JobOptions = {}): Promise<void> {
  await addJob(task, payload, options).execute(db);
}

/**
 * The select that adds a job, for a statement that writes the change causing it (a
 * CTE that the statement's final select must read, or it does not run).
 */
export function addJob(task: string, payload: unknown, options: JobOptions = {}): RawBuilder<{ job: unknown }> {
  return sql`select graphile_worker.add_job(
    identifier => ${task},
    payload => ${JSON.stringify(payload)}::json,
    queue_name => ${options.queueName ?? null}::text,
    run_at => ${options.runAt ?? null}::timestamptz,
    max_attempts => ${options.maxAttempts ?? null}::int,
    job_key => ${options.jobKey ?? null}::text,
    priority => ${options.priority ?? null}::int
  ) as job`;
}

/**
 * The jobs as one CTE body that adds each once per row of `from` (none when it has no
 * row): for a statement whose jobs belong to a row it may or may not write.
 */
export function addJobsPerRow(jobs: readonly RawBuilder<unknown>[], from: RawBuilder<unknown>): RawBuilder<unknown> {
  if (jobs.length === 0) return sql`select null as job where false`;
  return sql.join(
    jobs.map((job) => sql`select (${job}) as job from ${from}`),
    sql` union all `,
  );
}
