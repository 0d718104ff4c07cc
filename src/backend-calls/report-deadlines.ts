import type { Db } from '../db/database.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import type { CallKind, ReportDeadline } from './call-kind.ts';

/** The most overdue calls of one deadline a sweep settles at once. */
export const DEADLINE_BATCH = 100;

/**
 * The sweep for overdue reports of every kind of call that waits for one: each distinct
 * deadline (kinds may share one) settles one batch per pass. One index scan per
 * deadline replaces a scheduled job per call (which cluttered the job queue with a
 * deadline for every call, long after its report had come).
 */
export function reportDeadlineSweep(deps: { db: Db; clock: Clock; intervalMs: number; kinds: Iterable<CallKind> }): Sweep {
  const deadlines = new Set<ReportDeadline>();
  for (const kind of deps.kinds) if (kind.deadline) deadlines.add(kind.deadline);
  return {
    name: 'report-deadlines',
    intervalMs: deps.intervalMs,
    batchSize: DEADLINE_BATCH,
    async sweepOnce() {
      // A full batch of any one deadline makes the total full, and the pass come back for more.
      let handled = 0;
      for (const deadline of deadlines) handled += await deadline.sweepOverdue(deps);
      return handled;
    },
  };
}
