import type { CallKind, CallSettlement, ReportDeadline } from '../backend-calls/call-kind.ts';
import { DEADLINE_BATCH } from '../backend-calls/report-deadlines.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { lockTenant, type TenantRecord } from '../tenants/tenants.repo.ts';
import { insertTimelineEntry } from '../tenants/timeline.repo.ts';
import { CHANGE_KINDS, type ChangeKind } from './change-rules.ts';
import { applyChange, failChange } from './plan-changes.effects.ts';
import { type ChangeRow, findChange, findPriceTerms, updateChange } from './plan-changes.repo.ts';

/** The price as the backend is told about it. */
async function priceFacts(db: Db, priceId: string) {
  const price = await findPriceTerms(db, priceId);
  return price
    ? {
        id: price.id,
        name: price.name,
        cycle: price.cycle,
        customDays: price.custom_days,
        amount: price.amount_minor,
        currency: price.currency,
      }
    : { id: priceId };
}

/**
 * What happens to a change whose call settled: in response mode a 2xx applies it; in
 * callback mode it waits for the report until the product's callback timeout (real
 * time, like the lifecycle's reports); a refusal or a spent budget fails it.
 */
async function settleChange(tx: Db, deps: { clock: Clock }, tenant: TenantRecord, change: ChangeRow, settlement: CallSettlement) {
  await insertTimelineEntry(tx, tenant.id, deps.clock.now(), settlement.entry);
  if (settlement.outcome === 'refused') {
    await failChange(tx, deps, change, settlement.reason);
    return;
  }
  if (settlement.mode === 'response') {
    await applyChange(tx, deps, change);
    return;
  }
  const seconds = (tenant.product_provisioning as ProvisioningSettings).callbackTimeoutSeconds;
  const now = deps.clock.now();
  await updateChange(tx, change.id, {
    status: 'awaiting_report',
    report_due_at: new Date(now.getTime() + seconds * 1000),
    updated_at: now,
  });
}

/**
 * Fails every change whose report is overdue (callback mode: the backend accepted it
 * and never said how it ended). The tenant is locked first, as every settlement of a
 * call does, and rows being settled right now are skipped and seen on the next sweep.
 */
export async function sweepOverdueChanges(deps: { db: Db; clock: Clock }): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('subscription_changes')
      .innerJoin('tenants', 'tenants.id', 'subscription_changes.tenant_id')
      .select(['subscription_changes.id', 'subscription_changes.tenant_id'])
      .where('subscription_changes.status', '=', 'awaiting_report')
      .where('subscription_changes.report_due_at', '<=', now)
      .orderBy('subscription_changes.report_due_at')
      .limit(DEADLINE_BATCH)
      .forUpdate('tenants')
      .skipLocked()
      .execute();
    let failed = 0;
    for (const { id, tenant_id } of due) {
      const tenant = await lockTenant(tx, tenant_id);
      const change = await findChange(tx, id, { lock: true });
      if (!tenant || change?.status !== 'awaiting_report') continue;
      const seconds = (tenant.product_provisioning as ProvisioningSettings).callbackTimeoutSeconds;
      await failChange(tx, deps, change, `no report of the ${change.kind} from the backend within ${seconds} s`);
      failed++;
    }
    return failed;
  });
}

/** The plan changes' report deadline (`subscription_changes.report_due_at`), shared by the three kinds. */
export const PLAN_CHANGE_DEADLINE: ReportDeadline = { name: 'plan-changes', sweepOverdue: sweepOverdueChanges };

/**
 * The call that asks the backend to provision a plan change: the product's `upgrade`,
 * `downgrade` or `reset` URL, `{"tenantName", "change": {…}}`, the change's id as the
 * idempotency key; wanted while the change is being called for.
 */
function changeCall(kind: ChangeKind): CallKind {
  return {
    name: kind,
    url: kind,
    deadline: PLAN_CHANGE_DEADLINE,
    async prepare(db, context, job) {
      const change = await findChange(db, job.stepId);
      if (change?.status !== 'calling' || change.tenant_id !== context.id) return undefined;
      const [from, to] = await Promise.all([priceFacts(db, change.from_price_id), priceFacts(db, change.to_price_id)]);
      return {
        body: {
          tenantName: context.name,
          change: {
            id: change.id,
            type: change.kind,
            timing: change.timing,
            subscriptionId: change.subscription_id,
            effectiveAt: change.effective_at.toISOString(),
            from,
            to,
          },
        },
      };
    },
    async stillWanted(tx, _tenant, job) {
      return (await findChange(tx, job.stepId, { lock: true }))?.status === 'calling';
    },
    async settle(tx, deps, tenant, job, settlement) {
      const change = await findChange(tx, job.stepId, { lock: true });
      if (!change) return;
      await settleChange(tx, deps, tenant, change, settlement);
    },
  };
}

/** The three plan-change calls. */
export const PLAN_CHANGE_CALL_KINDS: readonly CallKind[] = CHANGE_KINDS.map(changeCall);
