import { type Caller, requireRole } from '../access/principal.ts';
import { findTenantSubscription } from '../commerce/subscriptions.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { insertTimelineEntry } from '../tenants/timeline.repo.ts';
import type { ChangeKind } from './change-rules.ts';
import { applyChange, type ChangeDeps, failChange } from './plan-changes.effects.ts';
import * as repo from './plan-changes.repo.ts';

/** How the backend says a change ended. */
export type ChangeOutcome = 'applied' | 'failed';

const WAITING = ['calling', 'awaiting_report'];

/** The reason a failure report gives, if its body carries one. */
function reasonOf(body: unknown): string {
  const reason = body && typeof body === 'object' ? (body as Record<string, unknown>).reason : undefined;
  return typeof reason === 'string' && reason ? reason.slice(0, 1000) : 'the backend reported that the change failed';
}

/**
 * Takes the backend's report of a plan change — the RoSaaS `…/subscription/upgrade`
 * (and `/failure`) paths, or the native route naming the change. A report of the change
 * being called for or awaiting its report applies or fails it, whether or not the call
 * was answered yet (a late answer is then only recorded). A success report repeating
 * one already applied is a no-op; any other report with nothing in flight is refused
 * (409) and leaves no trace. Every report taken is kept in the tenant's timeline.
 */
export async function reportChange(
  db: Db,
  deps: ChangeDeps,
  caller: Caller,
  tenantRef: string,
  report: { kind?: ChangeKind; changeId?: string; outcome: ChangeOutcome; body: unknown },
): Promise<{ change: repo.ChangeRow; applied: boolean }> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, tenantRef, { lock: true });
  const subscription = await findTenantSubscription(db, tenant.id);
  let change: repo.ChangeRow | undefined;
  if (report.changeId) {
    const named = await repo.findChange(db, report.changeId, { lock: true });
    if (!named || named.tenant_id !== tenant.id) throw new AppError('plan_change.not_found', { parameter: 'change' });
    change = named;
  } else if (subscription) {
    change = (await repo.findChangeInFlight(db, subscription.id, { lock: true })) ?? (await repo.findLatestChange(db, subscription.id));
  }
  const kind = report.kind ?? change?.kind;
  const entry = (extra: Record<string, unknown>) => ({
    kind: 'report' as const,
    action: `subscription_${kind}_${report.outcome}`,
    actor: { type: caller.actor.type, id: caller.actor.id },
    detail: { change: kind, outcome: report.outcome, changeId: change?.id ?? null, body: report.body ?? null, ...extra },
  });
  if (change && change.kind === kind && WAITING.includes(change.status)) {
    await insertTimelineEntry(db, tenant.id, deps.clock.now(), entry({}));
    const resolved =
      report.outcome === 'applied'
        ? await applyChange(db, deps, change, caller.actor)
        : await failChange(db, deps, change, reasonOf(report.body), caller.actor);
    return { change: resolved, applied: true };
  }
  if (change && change.kind === kind && change.status === 'applied' && report.outcome === 'applied') {
    await insertTimelineEntry(db, tenant.id, deps.clock.now(), entry({ repeated: true }));
    return { change, applied: false };
  }
  throw new AppError('plan_change.not_in_flight', {
    message: change
      ? `No ${kind} is waiting for a report: the latest change is a ${change.kind}, ${change.status}`
      : `No ${kind ?? 'plan change'} is waiting for a report: the tenant's subscription has no change`,
    parameter: report.changeId ? 'change' : 'tenant',
  });
}
