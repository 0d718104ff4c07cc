import type { Updateable } from 'kysely';
import type { Actor } from '../access/principal.ts';
import type { AuditEntry } from '../audit/audit.repo.ts';
import { addCallJob, firstAttempt } from '../backend-calls/call-kind.ts';
import { cancelSubscriptionOfDeletedTenant } from '../commerce/tenant-hooks.ts';
import type { Db } from '../db/database.ts';
import type { TenantsTable } from '../db/schema.ts';
import { AppError } from '../errors/app-error.ts';
import { eventFromAudit } from '../events/event-types.ts';
import type { NewEvent } from '../events/events.repo.ts';
import { syncHealthWatch } from '../health/health.watch.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { lockTenant, type TenantRecord } from './tenants.repo.ts';
import { tenantFacts } from './tenants.service.ts';
import { type AlongWithUpdate, type EventEntry, type TransitionEntry, updateTenantLogged } from './timeline.repo.ts';
import {
  type Action,
  availableActions,
  callOf,
  findTransition,
  LIVE_STATUSES,
  nextState,
  type Status,
  type Step,
  type TenantState,
  type WorkflowActor,
} from './workflow.ts';

/** What lifecycle operations need beyond the database. */
export interface LifecycleDeps {
  clock: Clock;
}

export const isLive = (status: string) => (LIVE_STATUSES as readonly string[]).includes(status);

/** Statuses on the way to `inactive`: a deletion asked for while live waits through them. */
export const TOWARD_INACTIVE: readonly Status[] = ['sending_deactivation_request', 'deactivating', 'inactive'];

/** The lifecycle state of a tenant record. */
export function stateOf(record: Pick<TenantRecord, 'status' | 'failed_step' | 'last_stable_status'>): TenantState {
  return {
    status: record.status as Status,
    failedStep: record.failed_step as Step | null,
    lastStable: record.last_stable_status as Status | null,
  };
}

/** Who takes a transition: the audit actor, and the workflow actor it acts as. */
export interface TransitionActor {
  actor: Actor;
  as: WorkflowActor;
}

/** What a transition says and writes beside the status change. */
export interface TransitionDetail {
  reason?: string;
  failureReason?: unknown;
  alsoLog?: EventEntry[];
  /** The audit record of the change, written in the same statement (it sees the tenant as the transition leaves it). */
  audit?: (after: TenantRecord) => AuditEntry;
  /** With `deactivate`: start the deletion as soon as the tenant is inactive. */
  thenDelete?: boolean;
}

/** Everything a transition writes, worked out before anything is written. */
export interface TransitionPlan {
  /** The tenant as the transition leaves it (its events carry it). */
  updated: TenantRecord;
  /** The row's new values, JSON columns as JSON text. */
  values: Updateable<TenantsTable>;
  entries: (TransitionEntry | EventEntry)[];
  along: AlongWithUpdate;
  at: Date;
}

/** The workflow's next state for `action`, or the 409 that names what is allowed now. */
export function checkTransition(tenant: TenantRecord, action: Action, as: WorkflowActor) {
  const state = stateOf(tenant);
  const row = findTransition(state, action);
  if (!row?.actors.includes(as)) {
    const allowed = availableActions(state, as);
    throw new AppError('tenant.transition_not_allowed', {
      message: `A tenant in status ${state.status}${state.failedStep ? ` (failed ${state.failedStep})` : ''} cannot take "${action}"; allowed now: ${allowed.join(', ') || 'nothing'}`,
      parameter: 'action',
    });
  }
  return { state, row, next: nextState(state, row) };
}

/**
 * Works out one row of the workflow table for `tenant` (as it is, health included):
 * the row's new values, the timeline entries, the call job, the events and the audit
 * record — nothing is written. An action the table does not allow is a 409.
 */
export function planTransition(
  deps: LifecycleDeps,
  tenant: TenantRecord,
  action: Action,
  who: TransitionActor,
  detail: TransitionDetail = {},
): TransitionPlan {
  const { state, row, next } = checkTransition(tenant, action, who.as);
  const at = deps.clock.now();
  const call = callOf(row);
  const awaiting = row.effects.some((effect) => 'awaitReport' in effect);
  const failing = row.effects.some((effect) => 'fail' in effect);
  const stepId = call ? newId() : awaiting ? tenant.step_id : null;
  const provisioning = tenant.product_provisioning as ProvisioningSettings;
  const reportDue = awaiting ? new Date(at.getTime() + provisioning.callbackTimeoutSeconds * 1000) : null;
  const actor = { type: who.as === 'system' ? 'system' : who.actor.type, id: who.actor.id };
  const failureReason = failing ? (detail.failureReason ?? detail.reason ?? null) : undefined;
  const values = {
    status: next.status,
    failed_step: next.failedStep,
    last_stable_status: next.lastStable,
    step_id: stepId,
    report_due_at: reportDue,
    // A deletion asked for while live waits out the deactivation; any other way cancels it.
    delete_when_inactive: Boolean(detail.thenDelete || tenant.delete_when_inactive) && TOWARD_INACTIVE.includes(next.status),
    updated_at: at,
  };
  const updated: TenantRecord = { ...tenant, ...values, failure_reason: failing ? failureReason : null, version: tenant.version + 1 };

  const snapshot = tenantFacts(updated);
  const reason = failureReason ?? detail.reason ?? null;
  const events: NewEvent[] = [
    {
      type: 'tenant.status_changed',
      productId: tenant.product_id,
      tenantId: tenant.id,
      data: { tenant: snapshot, from: state.status, to: next.status, action, actor, reason },
    },
  ];
  if (next.status === 'deleted')
    events.push({ type: 'tenant.deleted', productId: tenant.product_id, tenantId: tenant.id, data: { tenant: snapshot } });
  const audit = detail.audit?.(updated);
  const auditEvent = audit && eventFromAudit(audit);
  if (auditEvent) events.push(auditEvent);
  const job = call && stepId ? firstAttempt(call, tenant.id, stepId) : undefined;

  return {
    updated,
    values: { ...values, failure_reason: failing ? JSON.stringify(failureReason) : null },
    entries: [
      ...(detail.alsoLog ?? []),
      {
        kind: 'transition',
        action,
        from: state.status,
        to: next.status,
        actor,
        detail: {
          ...(detail.reason ? { reason: detail.reason } : {}),
          ...(stepId ? { stepId } : {}),
          ...(failing ? { failureReason } : {}),
        },
      },
    ],
    along: {
      jobs: job ? [addCallJob(job)] : [],
      events,
      ...(audit ? { audit: { actor: who.actor, entry: audit } } : {}),
    },
    at,
  };
}

/**
 * Moves a locked tenant through one row of the workflow table: the status change,
 * its timeline entries, the call to the backend it sets in motion, its events and
 * audit record are one statement in the caller's transaction, so they commit together
 * or not at all. Entering or leaving a live status starts or stops health probing
 * first. An action the table does not allow is a 409.
 */
export async function applyTransition(
  db: Db,
  deps: LifecycleDeps,
  tenant: TenantRecord,
  action: Action,
  who: TransitionActor,
  detail: TransitionDetail = {},
): Promise<TenantRecord> {
  const { state, next } = checkTransition(tenant, action, who.as);
  // commerce: deleting a tenant cancels its live subscription in the same transaction.
  if (action === 'delete') await cancelSubscriptionOfDeletedTenant(db, deps.clock, tenant.id, who.actor);
  // The tenant's health (which its events show) changes with the probing.
  const watchChanged = isLive(state.status) !== isLive(next.status);
  const health = watchChanged ? await syncHealthWatch(db, tenant, next.status, deps.clock.now()) : undefined;
  const current = !watchChanged ? tenant : health ? { ...tenant, ...(health as Partial<TenantRecord>) } : await lockTenant(db, tenant.id);
  if (!current) throw new Error('tenant vanished inside its own transaction');

  const plan = planTransition(deps, current, action, who, detail);
  const { row } = await updateTenantLogged(db, tenant.id, plan.values, plan.at, plan.entries, plan.along);
  if (!row) throw new Error(`tenant ${tenant.id} vanished inside its own transaction`);
  const result = { ...plan.updated, ...row };
  if (result.delete_when_inactive && result.status === 'inactive') {
    const reason = 'its deletion was asked for while it was live';
    return applyTransition(db, deps, result, 'delete', { actor: who.actor, as: 'system' }, { reason });
  }
  return result;
}
