import { SYSTEM_ACTOR } from '../access/principal.ts';
import type { CallJob, CallKind, CallKindDeps, CallSettlement, ReportDeadline } from '../backend-calls/call-kind.ts';
import { sweepOverdueReports } from './report-deadlines.ts';
import type { CallContext, TenantRecord } from './tenants.repo.ts';
import { updateTenantLogged } from './timeline.repo.ts';
import { applyTransition, isLive, planTransition, type TransitionDetail } from './transitions.ts';
import { type Action, PHASES, STEPS, type Step } from './workflow.ts';

const SYSTEM = { actor: SYSTEM_ACTOR, as: 'system' as const };

/** The lifecycle steps' report deadline (`tenants.report_due_at`), shared by the four step kinds. */
export const LIFECYCLE_DEADLINE: ReportDeadline = { name: 'lifecycle', sweepOverdue: sweepOverdueReports };

/** Whether the tenant is still sending this step with this id (a report or an operator may have moved it on). */
const sending = (tenant: Pick<TenantRecord, 'status' | 'step_id'>, step: Step, job: CallJob) =>
  tenant.status === PHASES[step].sending && tenant.step_id === job.stepId;

/**
 * What a settled step's answer does to the tenant: the backend's acceptance moves it
 * on (`call_accepted` in callback mode, `call_completed` in response mode); a refusal
 * or a spent budget is `call_refused`, with the reason.
 */
function stepOutcome(settlement: CallSettlement): { action: Action; detail: TransitionDetail } {
  if (settlement.outcome === 'success') {
    return { action: settlement.mode === 'callback' ? 'call_accepted' : 'call_completed', detail: { alsoLog: [settlement.entry] } };
  }
  return {
    action: 'call_refused',
    detail: { reason: settlement.reason, failureReason: settlement.failureReason, alsoLog: [settlement.entry] },
  };
}

/**
 * The call of one lifecycle step (creation, activation, deactivation, deletion): the
 * product's URL for the step, `{"tenantName"}` (the creation call also carries each
 * specification value as a top-level key), wanted while the tenant is sending that
 * step with that id, settled by the workflow's `call_*` transition.
 */
function stepCall(step: Step): CallKind {
  return {
    name: step,
    url: step,
    deadline: LIFECYCLE_DEADLINE,
    prepare: (_db, context, job) =>
      sending(context, step, job)
        ? { body: step === 'creation' ? { ...context.specifications, tenantName: context.name } : { tenantName: context.name } }
        : undefined,
    stillWanted: (_tx, tenant, job) => sending(tenant, step, job),
    settle: async (tx, deps, tenant, _job, settlement) => {
      const { action, detail } = stepOutcome(settlement);
      await applyTransition(tx, deps, tenant, action, SYSTEM, detail);
    },
    settleQuickly: (deps, context, job, settlement) => settleInOneStatement(deps, context, step, job, settlement),
  };
}

/**
 * Settles a step in one statement when the tenant did not change during the call (the
 * step's transition) or has left the step (the backend reported before it answered:
 * the late answer changes nothing but the timeline). A step that starts or stops
 * health probing, or ends in a deletion waiting for it, takes the locked way.
 */
async function settleInOneStatement(
  deps: CallKindDeps,
  context: CallContext,
  step: Step,
  job: CallJob,
  settlement: CallSettlement,
): Promise<boolean> {
  const { action, detail } = stepOutcome(settlement);
  const plan = planTransition(deps, context, action, SYSTEM, detail);
  const chainsDeletion = plan.updated.delete_when_inactive && plan.updated.status === 'inactive';
  if (isLive(plan.updated.status) !== isLive(context.status) || chainsDeletion) return false;
  const late = { ...settlement.entry, detail: { ...settlement.entry.detail, verdict: 'late' } };
  const guard = { version: context.version, otherwiseLog: { entry: late, unlessStatus: PHASES[step].sending, unlessStepId: job.stepId } };
  const { row, otherwiseLogged } = await updateTenantLogged(deps.db, context.id, plan.values, plan.at, plan.entries, plan.along, guard);
  return Boolean(row) || otherwiseLogged;
}

/** The four lifecycle steps' calls. */
export const LIFECYCLE_CALL_KINDS: readonly CallKind[] = STEPS.map(stepCall);
