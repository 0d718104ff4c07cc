import type { Task } from 'graphile-worker';
import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp, OutboundResult } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { fillUrl } from '../platform/url-template.ts';
import type { ProvisioningSettings } from '../products/products.schemas.ts';
import { findCallContext, lockTenant } from '../tenants/tenants.repo.ts';
import { type EventEntry, insertTimelineEntry } from '../tenants/timeline.repo.ts';
import { finishAttempt, isAttemptFinished } from './call-attempts.repo.ts';
import type { CallJob, CallKind, CallSettlement } from './call-kind.ts';
import { enqueueCall } from './call-kind.ts';
import { type CallOutcome, classifyCall, retryDelayMs } from './call-policy.ts';

/** What the call task needs. */
export interface CallTaskDeps {
  db: Db;
  box: SecretBox;
  clock: Clock;
  http: OutboundHttp;
  /** Every kind of call, by name (`callKinds()`). */
  kinds: ReadonlyMap<string, CallKind>;
  /** The node making the calls, recorded with each one. */
  nodeId: string;
  /** Pause before the second attempt; doubles after each. */
  retryBaseMs: number;
  random?: () => number;
}

/** Response bodies are kept in the timeline up to this size. */
export const KEPT_RESPONSE_BYTES = 4096;

/**
 * Makes one attempt of one call to a product's backend, the RoSaaS way: POST to the
 * product's URL for the call's kind with `api-key`, `idempotency-key: <step id>` and the
 * kind's JSON body. The attempt is recorded in the tenant's timeline. A transient
 * failure schedules the next attempt (same step id) within the product's budget, on
 * the tenant's queue; a settled call (a 2xx, a refusal, a spent budget) is handed to
 * its kind — quickly if it can, otherwise with the tenant locked and the call re-checked,
 * so an answer that comes after the backend already reported changes nothing but the
 * timeline.
 *
 * Each attempt is recorded once (`backend_call_attempts`): the job is completed by
 * graphile-worker after the outcome commits, so a process killed in between leaves a job
 * that runs again, and that run finds its attempt finished and calls nobody. A call that
 * was in flight when its process died is made again (at least once, same idempotency key).
 */
export function callBackendTask(deps: CallTaskDeps): Task {
  return async (payload) => {
    const job = payload as CallJob;
    const kind = deps.kinds.get(job.event);
    // A job of a kind this node does not know comes from a newer node: graphile-worker retries it later.
    if (!kind) throw new Error(`no call kind named ${job.event}`);
    const [context, finished] = await Promise.all([findCallContext(deps.db, job.tenantId), isAttemptFinished(deps.db, job)]);
    // A job that runs again after its outcome was recorded (its completion lost in a crash) must not call again.
    if (!context || finished) return;
    const prepared = await kind.prepare(deps.db, context, job, deps);
    if (!prepared) return;

    const provisioning = context.product_provisioning as ProvisioningSettings;
    const template = context.webhooks[kind.url];
    const { target } = prepared;
    const url = target ? target.url : template ? fillUrl(template, { name: context.name, tenantId: context.id }) : undefined;
    const method = target?.method ?? 'POST';
    const result: OutboundResult = url
      ? await deps.http.send({
          method,
          url,
          headers: target
            ? { 'user-agent': 'Landlord/0.1', 'idempotency-key': job.stepId, ...target.headers }
            : {
                'content-type': 'application/json',
                'user-agent': 'Landlord/0.1',
                'idempotency-key': job.stepId,
                'x-landlord-event': kind.url,
                'x-landlord-attempt': String(job.attempt),
                ...(context.api_key_encrypted ? { 'api-key': deps.box.open(context.api_key_encrypted) } : {}),
              },
          body: target ? undefined : JSON.stringify(prepared.body),
          timeoutMs: provisioning.requestTimeoutSeconds * 1000,
          maxResponseBytes: KEPT_RESPONSE_BYTES,
        })
      : { ok: false, code: 'NO_URL', error: `the product has no ${kind.url} URL`, durationMs: 0 };
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
        method,
        ...(result.ok
          ? { status: result.status, responseBody: result.body, truncated: result.truncated }
          : { error: result.error, code: result.code }),
        durationMs: result.durationMs,
        verdict,
        node: deps.nodeId,
      },
    });
    const settlement = settlementOf(job, result, outcome, provisioning, entry);

    if (settles && kind.settle && kind.settleQuickly && (await kind.settleQuickly(deps, context, job, settlement))) return;

    await deps.db.transaction().execute(async (tx) => {
      const tenant = await lockTenant(tx, job.tenantId);
      if (!tenant) return;
      const now = deps.clock.now();
      // The attempt's outcome is recorded once: a second run of the same attempt records nothing (and
      // so enqueues no second next attempt). graphile-worker completes the job only after this commits.
      if (!(await finishAttempt(tx, job, now))) return;
      const wanted = await kind.stillWanted(tx, tenant, job);
      if (!wanted || !settles || !kind.settle) {
        await insertTimelineEntry(tx, tenant.id, now, entry(!wanted ? 'late' : settles ? outcome : 'retry'));
        if (wanted && !settles) await scheduleRetry(tx, deps, job, result, now);
        return;
      }
      await kind.settle(tx, deps, tenant, job, settlement);
    });
  };
}

/** A settled call's outcome: the 2xx, or the refusal (or spent budget) with its reason. */
function settlementOf(
  job: CallJob,
  result: OutboundResult,
  outcome: CallOutcome,
  provisioning: ProvisioningSettings,
  entry: (verdict: string) => EventEntry,
): CallSettlement {
  if (outcome === 'success') return { outcome: 'success', mode: provisioning.mode, entry: entry('success') };
  const why = result.ok ? `the backend answered ${result.status}` : result.error;
  const reason = outcome === 'transient' ? `gave up after ${job.attempt} attempts: ${why}` : why;
  return { outcome: 'refused', mode: provisioning.mode, reason, failureReason: { attempts: job.attempt, reason }, entry: entry(outcome) };
}

async function scheduleRetry(tx: Db, deps: CallTaskDeps, job: CallJob, result: OutboundResult, now: Date): Promise<void> {
  const retryAfter = result.ok ? result.headers['retry-after'] : undefined;
  const delay = retryDelayMs(job.attempt, {
    baseMs: deps.retryBaseMs,
    retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    now,
    random: deps.random ?? Math.random,
  });
  await enqueueCall(tx, { ...job, attempt: job.attempt + 1 }, { runAt: new Date(now.getTime() + delay) });
}
