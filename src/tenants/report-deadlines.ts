import { SYSTEM_ACTOR } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { lockTenant } from './tenants.repo.ts';
import { applyTransition } from './transitions.ts';
import { PHASES, STEPS } from './workflow.ts';

const BATCH = 100;

/**
 * The lifecycle's report deadline (`LIFECYCLE_DEADLINE`): moves every tenant whose report is overdue (callback mode: the backend accepted a
 * step and never said how it ended) to failure. Rows another node is sweeping, or
 * that a report is changing right now, are skipped and seen on the next sweep.
 * Returns how many tenants it failed.
 */
export async function sweepOverdueReports(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('tenants')
      .select('id')
      .where('report_due_at', '<=', now)
      .orderBy('report_due_at')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    let failed = 0;
    for (const { id } of due) {
      const tenant = await lockTenant(tx, id);
      const step = STEPS.find((candidate) => PHASES[candidate].working === tenant?.status);
      if (!tenant || !step) continue;
      const seconds = (tenant.product_provisioning as ProvisioningSettings).callbackTimeoutSeconds;
      const reason = `no report of the ${step} from the backend within ${seconds} s`;
      await applyTransition(
        tx,
        deps,
        tenant,
        'callback_timed_out',
        { actor: SYSTEM_ACTOR, as: 'system' },
        { reason, failureReason: { reason } },
      );
      failed++;
    }
    return failed;
  });
}
