import type { Task } from 'graphile-worker';
import { SYSTEM_ACTOR } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { enqueueJob } from '../jobs/enqueue.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp, OutboundResult } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { fillUrl } from '../platform/url-template.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { classifyCall, retryDelayMs } from './call-policy.ts';
import { findCallContext, lockTenant } from './tenants.repo.ts';
import { type EventEntry, insertTimelineEntry, updateTenantLogged } from './timeline.repo.ts';
import {
  applyTransition,
  CALL_TASK,
  type CallEvent,
  type CallJob,
  isLive,
  planTransition,
  type TransitionDetail,
  tenantQueue,
} from './transitions.ts';
import { type Action, PHASES, STEPS, type Step } from './workflow.ts';

/** What the lifecycle jobs need. */
export interface LifecycleJobDeps {
  db: Db;
  box: SecretBox;
  clock: Clock;
  http: OutboundHttp;
  /** The node making the calls, recorded with each one. */
  nodeId: string;
  /** Pause before the second attempt; doubles after each. */
  retryBaseMs: number;
  random?: () => number;
}

/** Response bodies are kept in the timeline up to this size. */
export const KEPT_RESPONSE_BYTES = 4096;
const SYSTEM = { actor: SYSTEM_ACTOR, as: 'system' as const };

const isStep = (event: CallEvent): event is Step => (STEPS as readonly string[]).includes(event);

/**
 * Calls the product's backend for one event, the RoSaaS way: POST to the product's
 * URL for the event with `api-key` and `{"tenantName"}` (the creation call also
 * carries each specification value as a top-level key). The outcome is recorded and
 * acted on atomically: in one statement when the tenant did not change during the
 * call (the step's transition) or has left the step (the backend reported before it
 * answered: the late answer changes nothing but the timeline); otherwise with the
 * tenant locked and its step re-checked. A transient failure schedules the next
 * attempt (same step id) within the product's budget; a refusal or a spent budget
 * moves the tenant on as the workflow says.
 */
export function callBackendTask(deps: LifecycleJobDeps): Task {
  return async (payload) => {
    const job = payload as CallJob;
    const context = await findCallContext(deps.db, job.tenantId);
    if (!context) return;
    const step = isStep(job.event) ? job.event : undefined;
    if (step && !(context.status === PHASES[step].sending && context.step_id === job.stepId)) return;

    const provisioning = context.product_provisioning as ProvisioningSettings;
    const template = context.webhooks[job.event];
    const url = template ? fillUrl(template, { name: context.name, tenantId: context.id }) : undefined;
    const body = job.event === 'creation' ? { ...context.specifications, tenantName: context.name } : { tenantName: context.name };
    const result: OutboundResult = url
      ? await deps.http.send({
          method: 'POST',
          url,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Landlord/0.1',
            'idempotency-key': job.stepId,
            'x-landlord-event': job.event,
            'x-landlord-attempt': String(job.attempt),
            ...(context.api_key_encrypted ? { 'api-key': deps.box.open(context.api_key_encrypted) } : {}),
          },
          body: JSON.stringify(body),
          timeoutMs: provisioning.requestTimeoutSeconds * 1000,
          maxResponseBytes: KEPT_RESPONSE_BYTES,
        })
      : { ok: false, code: 'NO_URL', error: `the product has no ${job.event} URL`, durationMs: 0 };
    const outcome = url ? classifyCall(result) : 'permanent';
    const settles = outcome !== 'transient' || job.attempt >= provisioning.maxAttempts;
    const entry = (verdict: string): EventEntry => ({
      kind: 'call',
      action: job.event,
      actor: { type: 'system', id: 'landlord' },
      detail: {
        stepId: job.stepId,
        attempt: job.attempt,
        url: url ?? null,
        method: 'POST',
        ...(result.ok
          ? { status: result.status, responseBody: result.body, truncated: result.truncated }
          : { error: result.error, code: result.code }),
        durationMs: result.durationMs,
        verdict,
        node: deps.nodeId,
      },
    });
    const settled = settleStep(job, result, outcome, provisioning, entry);

    if (step && settles) {
      const plan = planTransition(deps, context, settled.action, SYSTEM, settled.detail);
      // A step that starts or stops health probing, or ends in a deletion waiting for it, takes the locked way.
      const chainsDeletion = plan.updated.delete_when_inactive && plan.updated.status === 'inactive';
      const simple = isLive(plan.updated.status) === isLive(context.status) && !chainsDeletion;
      if (simple) {
        const guard = {
          version: context.version,
          otherwiseLog: { entry: entry('late'), unlessStatus: PHASES[step].sending, unlessStepId: job.stepId },
        };
        const { row, otherwiseLogged } = await updateTenantLogged(
          deps.db,
          context.id,
          plan.values,
          plan.at,
          plan.entries,
          plan.along,
          guard,
        );
        if (row || otherwiseLogged) return;
      }
    }

    await deps.db.transaction().execute(async (tx) => {
      const tenant = await lockTenant(tx, job.tenantId);
      if (!tenant) return;
      const now = deps.clock.now();
      const pending = !step || (tenant.status === PHASES[step].sending && tenant.step_id === job.stepId);
      if (!pending || !step || !settles) {
        await insertTimelineEntry(tx, tenant.id, now, entry(!pending ? 'late' : settles ? outcome : 'retry'));
        if (pending && !settles) await scheduleRetry(tx, deps, job, result, now);
        return;
      }
      await applyTransition(tx, deps, tenant, settled.action, SYSTEM, settled.detail);
    });
  };
}

/**
 * What a settled step's answer does to the tenant: the backend's acceptance moves it
 * on (`call_accepted` in callback mode, `call_completed` in response mode); a refusal
 * or a spent budget is `call_refused`, with the reason.
 */
function settleStep(
  job: CallJob,
  result: OutboundResult,
  outcome: 'success' | 'transient' | 'permanent',
  provisioning: ProvisioningSettings,
  entry: (verdict: string) => EventEntry,
): { action: Action; detail: TransitionDetail } {
  if (outcome === 'success') {
    return { action: provisioning.mode === 'callback' ? 'call_accepted' : 'call_completed', detail: { alsoLog: [entry('success')] } };
  }
  const why = result.ok ? `the backend answered ${result.status}` : result.error;
  const failureReason = {
    attempts: job.attempt,
    reason: outcome === 'transient' ? `gave up after ${job.attempt} attempts: ${why}` : why,
  };
  return { action: 'call_refused', detail: { reason: failureReason.reason, failureReason, alsoLog: [entry(outcome)] } };
}

async function scheduleRetry(tx: Db, deps: LifecycleJobDeps, job: CallJob, result: OutboundResult, now: Date): Promise<void> {
  const retryAfter = result.ok ? result.headers['retry-after'] : undefined;
  const delay = retryDelayMs(job.attempt, {
    baseMs: deps.retryBaseMs,
    retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    now,
    random: deps.random ?? Math.random,
  });
  const next: CallJob = { ...job, attempt: job.attempt + 1 };
  await enqueueJob(tx, CALL_TASK, next, { queueName: tenantQueue(job.tenantId), runAt: new Date(now.getTime() + delay) });
}
