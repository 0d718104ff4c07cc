import type { Task } from 'graphile-worker';
import type { Db } from '../db/database.ts';
import type { Schedule } from '../jobs/worker.ts';
import type { Clock } from '../platform/clock.ts';
import { deleteOldHistory, moveFinishedHours } from './health.repo.ts';

/** The hourly housekeeping task of probe history. */
export const HEALTH_HISTORY_TASK = 'health.keep_history';

// Each statement handles at most this many rows, so no transaction runs long.
const CHUNK = 10_000;

/** How long probe history is kept. */
export interface HistoryRetention {
  /** Raw probes (failures and changes). */
  probeHours: number;
  /** Hourly totals (uptime over 30 days needs at least 30). */
  hourlyDays: number;
}

/**
 * Keeps probe history compact: moves the totals of finished hours that no probe has
 * moved yet (rows not probed any more) into the hourly table, and deletes raw probes
 * and hourly totals older than their retention. Chunked, so it never holds locks long.
 */
export function keepHealthHistory(db: Db, clock: Clock, retention: HistoryRetention): Task {
  return async () => {
    const now = clock.now();
    while ((await moveFinishedHours(db, now, CHUNK)) === CHUNK);
    const probeCutoff = new Date(now.getTime() - retention.probeHours * 3_600_000);
    while ((await deleteOldHistory(db, 'tenant_probes', probeCutoff, CHUNK)) === CHUNK);
    const hourlyCutoff = new Date(now.getTime() - retention.hourlyDays * 86_400_000);
    while ((await deleteOldHistory(db, 'tenant_probe_hourly', hourlyCutoff, CHUNK)) === CHUNK);
  };
}

/** Runs once an hour across all nodes, a few minutes past the hour. */
export const healthSchedules: Schedule[] = [
  { task: HEALTH_HISTORY_TASK, match: '7 * * * *', identifier: HEALTH_HISTORY_TASK, options: { backfillPeriod: 0 } },
];
