import { type Caller, requireRole } from '../access/principal.ts';
import type { AuditEntry } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { TenantRecord } from './tenants.repo.ts';
import { getVisibleTenant, toTenantView, workflowActorOf } from './tenants.service.ts';
import { type EventEntry, insertTimelineEntry, updateTenantLogged } from './timeline.repo.ts';
import { applyTransition, isLive, type LifecycleDeps, stateOf, TOWARD_INACTIVE } from './transitions.ts';
import { type Action, availableActions, findTransition, PHASES, type Status } from './workflow.ts';

/** An operator's (or the backend's) request to move a tenant: activate, deactivate, delete, retry, undo… */
export async function takeAction(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  ref: string,
  action: Action,
  reason?: string,
): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  return applyTransition(
    db,
    deps,
    tenant,
    action,
    { actor: caller.actor, as: workflowActorOf(caller.principal) },
    { reason, audit: auditAs(caller, tenant, `tenant.${action}`) },
  );
}

/**
 * Deletes a tenant whatever its stable status, as a customer's cancellation asks: a
 * live tenant is deactivated first and its deletion starts once it is inactive; one
 * being deactivated is deleted when that is done; any other is deleted as `delete` says.
 */
export async function deleteEventually(db: Db, deps: LifecycleDeps, caller: Caller, ref: string, reason: string): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  const who = { actor: caller.actor, as: workflowActorOf(caller.principal) };
  if (isLive(tenant.status)) {
    return applyTransition(db, deps, tenant, 'deactivate', who, {
      reason: `${reason} (deactivating first)`,
      thenDelete: true,
      audit: auditAs(caller, tenant, 'tenant.deactivate'),
    });
  }
  if (tenant.status !== 'inactive' && TOWARD_INACTIVE.includes(tenant.status as Status)) {
    if (tenant.delete_when_inactive) return tenant;
    const now = deps.clock.now();
    const entry = {
      kind: 'transition' as const,
      action: 'delete',
      from: tenant.status,
      to: tenant.status,
      actor: { type: who.actor.type, id: who.actor.id },
    };
    const { row } = await updateTenantLogged(db, tenant.id, { delete_when_inactive: true, updated_at: now }, now, [
      { ...entry, detail: { reason: `${reason} (once the deactivation is done)` } },
    ]);
    return { ...tenant, ...row };
  }
  return applyTransition(db, deps, tenant, 'delete', who, { reason, audit: auditAs(caller, tenant, 'tenant.delete') });
}

/** The audit record of a caller's transition of `tenant`, for `applyTransition`'s `audit`. */
function auditAs(caller: Caller, tenant: TenantRecord, action: string): (after: TenantRecord) => AuditEntry {
  return (after) => ({
    action,
    objectType: 'tenant',
    objectId: tenant.id,
    productId: tenant.product_id,
    before: toTenantView(tenant, caller.principal),
    after: toTenantView(after, caller.principal),
  });
}

/** The reports a backend sends, by the status it reports. */
export const REPORTS = ['created', 'active', 'inactive', 'deleted', 'failure'] as const;
export type Report = (typeof REPORTS)[number];

const REPORT_ACTION: Record<Report, Action> = {
  created: 'report_created',
  active: 'report_active',
  inactive: 'report_inactive',
  deleted: 'report_deleted',
  failure: 'report_failure',
};
const REPORTED_STATUS: Record<Exclude<Report, 'failure'>, Status> = {
  created: PHASES.creation.done,
  active: PHASES.activation.done,
  inactive: PHASES.deactivation.done,
  deleted: PHASES.deletion.done,
};

/**
 * Takes the backend's report of a step's outcome. A report that repeats one already
 * applied is a harmless success; a report that does not fit the tenant's state is a
 * 409 and changes nothing. Every report is kept in the timeline with its body.
 */
export async function applyReport(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  ref: string,
  report: Report,
  body: unknown,
): Promise<{ record: TenantRecord; applied: boolean }> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  const repeated = report === 'failure' ? tenant.status === 'failure' : tenant.status === REPORTED_STATUS[report];
  const who = { actor: caller.actor, as: 'external_system' as const };
  if (repeated) {
    await insertTimelineEntry(db, tenant.id, deps.clock.now(), {
      kind: 'report',
      action: REPORT_ACTION[report],
      actor: { type: caller.actor.type, id: caller.actor.id },
      detail: { report, body: body ?? null, repeated: true },
    });
    return { record: tenant, applied: false };
  }
  // Checked before the report is recorded, so a refused report leaves no trace.
  const state = stateOf(tenant);
  if (!findTransition(state, REPORT_ACTION[report])) {
    throw new AppError('tenant.transition_not_allowed', {
      message: `A tenant in status ${state.status} cannot be reported ${report}; reports allowed now: ${availableActions(state, 'external_system').join(', ') || 'none'}`,
      parameter: 'status',
    });
  }
  const reportEntry: EventEntry = {
    kind: 'report',
    action: REPORT_ACTION[report],
    actor: { type: caller.actor.type, id: caller.actor.id },
    detail: { report, body: body ?? null },
  };
  const record = await applyTransition(db, deps, tenant, REPORT_ACTION[report], who, {
    alsoLog: [reportEntry],
    ...(report === 'failure' ? { failureReason: body ?? null } : {}),
    audit: auditAs(caller, tenant, `tenant.report_${report}`),
  });
  return { record, applied: true };
}
