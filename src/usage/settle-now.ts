import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { limitsPass } from './limits.ts';
import { overagePass } from './overage.ts';

// How long an advance waits, at most, for windows another node's sweep holds.
const HELD_WAIT_MS = 30_000;

/**
 * Runs the usage sweeps for one product until nothing of it is due (a sandbox clock's
 * advance answers only then): limits left because their window ended are cleared
 * (`usage.limit_cleared`), and windows whose grace is over are settled (overage billed).
 * What another node's sweep holds is waited for, not skipped — up to a bound, past which
 * that node's own pass finishes it.
 */
export async function settleUsageNow(deps: { db: Db; clock: Clock }, productId: string): Promise<{ cleared: number; settled: number }> {
  const totals = { cleared: 0, settled: 0 };
  const started = Date.now();
  for (const [key, pass] of [
    ['cleared', limitsPass],
    ['settled', overagePass],
  ] as const) {
    for (let backoff = 10; ; ) {
      const { due, handled } = await pass(deps, productId);
      totals[key] += handled;
      if (due === 0) break;
      if (handled > 0) continue;
      if (Date.now() - started > HELD_WAIT_MS) break;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 500);
    }
  }
  return totals;
}
