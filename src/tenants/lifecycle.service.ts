import type { RawBuilder } from 'kysely';
import { type Actor, type Caller, requireRole } from '../access/principal.ts';
import { type AuditEntry, auditInsert } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { eventFromAudit } from '../events/event-types.ts';
import type { NewEvent } from '../events/events.repo.ts';
import { syncHealthWatch } from '../health/health.watch.ts';
import { addJob } from '../jobs/enqueue.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { lockTenant, type TenantRecord } from './tenants.repo.ts';
import { getVisibleTenant, tenantFacts, toTenantView, workflowActorOf } from './tenants.service.ts';
import { type EventEntry, insertTimelineEntry, updateTenantLogged } from './timeline.repo.ts';
import {
  type Action,
  availableActions,
  callOf,
  findTransition,
  LIVE_STATUSES,
  nextState,
  PHASES,
  type Status,
  type Step,
  type TenantState,
  type WorkflowActor,
} from './workflow.ts';

/** The graphile-worker task that calls the backend. */
export const CALL_TASK = 'tenant.call';

/** Everything Landlord calls a product's backend for: the four steps and the other notices. */
export type CallEvent = Step | 'unavailable' | 'upgrade' | 'downgrade' | 'reset';

/** The payload of a {@link CALL_TASK} job. */
export interface CallJob {
  tenantId: string;
  event: CallEvent;
  /** Sent to the backend with every attempt (`Idempotency-Key`) so it can de-duplicate. */
  stepId: string;
  attempt: number;
}

/** What lifecycle operations need beyond the database. */
export interface LifecycleDeps {
  clock: Clock;
}

/** Named job queues the tenants' calls are spread over. */
export const CALL_QUEUES = 256;

/**
 * The queue of a tenant's calls. Calls in one queue run one at a time, in order, so a
 * tenant's calls never overtake each other; tenants are spread over a fixed number of
 * queues because graphile-worker's job fetch slows with every queue it knows of (one
 * per tenant made it 7× slower in the benchmark).
 */
export function tenantQueue(tenantId: string): string {
  let hash = 0;
  for (let index = 0; index < tenantId.length; index++) hash = (hash * 31 + tenantId.charCodeAt(index)) | 0;
  return `tenant-calls:${(hash >>> 0) % CALL_QUEUES}`;
}

const isLive = (status: string) => (LIVE_STATUSES as readonly string[]).includes(status);

/** The lifecycle state of a tenant record. */
export function stateOf(record: Pick<TenantRecord, 'status' | 'failed_step' | 'last_stable_status'>): TenantState {
  return {
    status: record.status as Status,
    failedStep: record.failed_step as Step | null,
    lastStable: record.last_stable_status as Status | null,
  };
}

/**
 * Moves a locked tenant through one row of the workflow table: the status change,
 * its timeline entry and the jobs it sets in motion (the call to the backend, the
 * deadline for its report) are written in the caller's transaction, so they commit
 * together or not at all. An action the table does not allow is a 409.
 */
export async function applyTransition(
  db: Db,
  deps: LifecycleDeps,
  tenant: TenantRecord,
  action: Action,
  who: { actor: Actor; as: WorkflowActor },
  detail: {
    reason?: string;
    failureReason?: unknown;
    alsoLog?: EventEntry[];
    /** The audit record of the change, written in the same statement (it sees the tenant as the transition leaves it). */
    audit?: (after: TenantRecord) => AuditEntry;
    /** Other writes that belong to the change (e.g. the answer stored under an idempotency key). */
    writes?: (after: TenantRecord) => RawBuilder<unknown>[];
    /** With `deactivate`: start the deletion as soon as the tenant is inactive. */
    thenDelete?: boolean;
  } = {},
): Promise<TenantRecord> {
  const state = stateOf(tenant);
  const row = findTransition(state, action);
  if (!row?.actors.includes(who.as)) {
    const allowed = availableActions(state, who.as);
    throw new AppError('tenant.transition_not_allowed', {
      message: `A tenant in status ${state.status}${state.failedStep ? ` (failed ${state.failedStep})` : ''} cannot take "${action}"; allowed now: ${allowed.join(', ') || 'nothing'}`,
      parameter: 'action',
    });
  }
  const next = nextState(state, row);
  const now = deps.clock.now();
  const call = callOf(row);
  const awaiting = row.effects.some((effect) => 'awaitReport' in effect);
  const failing = row.effects.some((effect) => 'fail' in effect);
  const stepId = call ? newId() : awaiting ? tenant.step_id : null;
  const provisioning = tenant.product_provisioning as ProvisioningSettings;
  const reportDue = awaiting ? new Date(now.getTime() + provisioning.callbackTimeoutSeconds * 1000) : null;
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
    updated_at: now,
  };
  // Entering or leaving a live status starts or stops health probing, in this
  // transaction; the tenant's health (which its events show) changes with it.
  const watchChanged = isLive(state.status) !== isLive(next.status);
  const health = watchChanged ? await syncHealthWatch(db, tenant, next.status, now) : undefined;
  const current = !watchChanged ? tenant : health ? { ...tenant, ...(health as Partial<TenantRecord>) } : await lockTenant(db, tenant.id);
  if (!current) throw new Error('tenant vanished inside its own transaction');

  // The tenant as the update below leaves it: its events carry it, written in the same statement.
  const events: NewEvent[] = [];
  const updated: TenantRecord = { ...current, ...values, failure_reason: failing ? failureReason : null, version: current.version + 1 };
  const snapshot = tenantFacts(updated);
  const reason = failureReason ?? detail.reason ?? null;
  events.push({
    type: 'tenant.status_changed',
    productId: tenant.product_id,
    tenantId: tenant.id,
    data: { tenant: snapshot, from: state.status, to: next.status, action, actor, reason },
  });
  if (next.status === 'deleted')
    events.push({ type: 'tenant.deleted', productId: tenant.product_id, tenantId: tenant.id, data: { tenant: snapshot } });
  const audit = detail.audit?.(updated);
  const auditEvent = audit && eventFromAudit(audit);
  if (auditEvent) events.push(auditEvent);
  const jobs =
    call && stepId
      ? [
          addJob(CALL_TASK, { tenantId: tenant.id, event: call, stepId, attempt: 1 } satisfies CallJob, {
            queueName: tenantQueue(tenant.id),
          }),
        ]
      : [];

  const written = await updateTenantLogged(
    db,
    tenant.id,
    { ...values, failure_reason: failing ? JSON.stringify(failureReason) : null },
    now,
    [
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
    { jobs, events, writes: [...(audit ? [auditInsert(who.actor, audit)] : []), ...(detail.writes?.(updated) ?? [])] },
  );
  const result = { ...updated, ...written };
  if (result.delete_when_inactive && result.status === 'inactive') {
    return applyTransition(
      db,
      deps,
      result,
      'delete',
      { actor: who.actor, as: 'system' },
      { reason: 'its deletion was asked for while it was live' },
    );
  }
  return result;
}

const TOWARD_INACTIVE: readonly Status[] = ['sending_deactivation_request', 'deactivating', 'inactive'];

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
    const row = await updateTenantLogged(db, tenant.id, { delete_when_inactive: true, updated_at: now }, now, [
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

/** Starts the creation step right after the record is made, when the product asks for it. */
export async function sendCreationIfAutomatic(
  db: Db,
  deps: LifecycleDeps,
  record: TenantRecord,
  actor: Actor,
  writes?: (after: TenantRecord) => RawBuilder<unknown>[],
): Promise<TenantRecord> {
  const provisioning = record.product_provisioning as ProvisioningSettings;
  if (!provisioning.autoSendCreation) return record;
  return applyTransition(
    db,
    deps,
    record,
    'send_creation_request',
    { actor, as: 'system' },
    { reason: 'provisioning.autoSendCreation', writes },
  );
}

/** Plan changes the backend applies for a subscription (its own issue gives them their full effect). */
export const SUBSCRIPTION_CHANGES = ['upgrade', 'downgrade', 'reset'] as const;
export type SubscriptionChange = (typeof SUBSCRIPTION_CHANGES)[number];

/** Records the backend's report that a subscription change was applied (or failed) in the tenant's history. */
export async function recordSubscriptionReport(
  db: Db,
  deps: LifecycleDeps,
  caller: Caller,
  ref: string,
  change: SubscriptionChange,
  outcome: 'applied' | 'failed',
  body: unknown,
): Promise<TenantRecord> {
  requireRole(caller.principal, 'super_admin', 'product_admin', 'client');
  const tenant = await getVisibleTenant(db, caller.principal, ref, { lock: true });
  await insertTimelineEntry(db, tenant.id, deps.clock.now(), {
    kind: 'report',
    action: `subscription_${change}_${outcome}`,
    actor: { type: caller.actor.type, id: caller.actor.id },
    detail: { change, outcome, body: body ?? null },
  });
  return tenant;
}
