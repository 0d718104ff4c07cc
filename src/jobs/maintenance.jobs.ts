import type { Task } from 'graphile-worker';
import type { Db } from '../db/database.ts';
import { IDEMPOTENCY_TTL_MS } from '../http/idempotency.ts';
import type { Clock } from '../platform/clock.ts';
import type { Schedule } from './worker.ts';

/** Deletes idempotency records older than their 24-hour replay window. */
export function pruneIdempotencyKeys(db: Db, clock: Clock): Task {
  return async () => {
    await db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', new Date(clock.now().getTime() - IDEMPOTENCY_TTL_MS))
      .execute();
  };
}

/** Housekeeping schedules: pruning runs every hour, once across all nodes. */
export const maintenanceSchedules: Schedule[] = [
  {
    task: 'landlord.prune_idempotency_keys',
    match: '17 * * * *',
    identifier: 'landlord.prune_idempotency_keys',
    options: { backfillPeriod: 0 },
  },
];
