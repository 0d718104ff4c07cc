import type { RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import { addJob, enqueueJob } from '../jobs/enqueue.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { WebhookEvent } from '../products/products.schemas.ts';
import type { CallContext, TenantRecord } from '../tenants/tenants.repo.ts';
import type { EventEntry } from '../tenants/timeline.repo.ts';

/** The graphile-worker task that makes every call to a product's backend, whatever its kind. */
export const CALL_TASK = 'tenant.call';

/** The payload of a {@link CALL_TASK} job: one attempt of one call of one kind about one tenant. */
export interface CallJob {
  tenantId: string;
  /** The call's kind (a name in the registry: `creation`, `unavailable`, `upgrade`…). */
  event: string;
  /** Sent to the backend with every attempt (`Idempotency-Key`) so it can de-duplicate. */
  stepId: string;
  attempt: number;
}

/** Named job queues the tenants' calls are spread over. */
export const CALL_QUEUES = 256;

/**
 * The queue of a tenant's calls. Calls in one queue run one at a time, in order, so a
 * tenant's calls never overtake each other, whatever their kind; tenants are spread
 * over a fixed number of queues because graphile-worker's job fetch slows with every
 * queue it knows of (one per tenant made it 7× slower in the benchmark).
 */
export function tenantQueue(tenantId: string): string {
  let hash = 0;
  for (let index = 0; index < tenantId.length; index++) hash = (hash * 31 + tenantId.charCodeAt(index)) | 0;
  return `tenant-calls:${(hash >>> 0) % CALL_QUEUES}`;
}

/** The first attempt of a call of `kind` about `tenantId`, whose idempotency key is `stepId`. */
export function firstAttempt(kind: string, tenantId: string, stepId: string): CallJob {
  return { tenantId, event: kind, stepId, attempt: 1 };
}

/** The select that adds `job` on its tenant's queue, for a statement that writes the change causing it. */
export function addCallJob(job: CallJob, options: { runAt?: Date } = {}): RawBuilder<{ job: unknown }> {
  return addJob(CALL_TASK, job, { queueName: tenantQueue(job.tenantId), ...options });
}

/** Adds `job` on its tenant's queue in `tx`, the transaction of the change that causes it. */
export async function enqueueCall(tx: Db, job: CallJob, options: { runAt?: Date } = {}): Promise<void> {
  await enqueueJob(tx, CALL_TASK, job, { queueName: tenantQueue(job.tenantId), ...options });
}

/** What the machinery lends a kind while it settles a call. */
export interface CallKindDeps {
  db: Db;
  clock: Clock;
}

/** How a call ended once no attempt is left to make. */
export type CallSettlement =
  | {
      /** The backend answered 2xx. */
      outcome: 'success';
      /** What that 2xx means: `callback` — started, a report will follow; `response` — done. */
      mode: 'callback' | 'response';
      /** The attempt's timeline entry (verdict `success`). */
      entry: EventEntry;
    }
  | {
      /** The backend refused (3xx, 4xx, no URL) or every attempt the product allows failed. */
      outcome: 'refused';
      mode: 'callback' | 'response';
      reason: string;
      failureReason: { attempts: number; reason: string };
      entry: EventEntry;
    };

/** The call as a kind wants it made. */
export interface PreparedCall {
  /** The JSON body (RoSaaS's `{"tenantName"}`, plus whatever the kind adds). */
  body: Record<string, unknown>;
  /**
   * The kind's own request instead of a POST to the product URL `url` with `api-key`
   * (a marketplace's DELETE notice to the app, with its Basic credential); no body is sent.
   */
  target?: { method: 'DELETE'; url: string; headers: Record<string, string> };
}

/** What a kind may use while it prepares a call (a sealed credential to open). */
export interface PrepareDeps {
  box: SecretBox;
}

/**
 * The overdue reports of one family of calls (callback mode: the backend accepted the
 * call and never said how it ended). Kinds sharing a deadline share this object; the
 * one `report-deadlines` sweep runs each once.
 */
export interface ReportDeadline {
  readonly name: string;
  /** Settles at most one batch of overdue calls as failed; returns how many. */
  sweepOverdue(deps: CallKindDeps): Promise<number>;
}

/**
 * One kind of call Landlord makes to a product's backend: which product URL it uses,
 * how its body is built, whether it is still wanted, and what its settled answer does.
 * The machinery around it (`call-backend.jobs.ts`) is the same for every kind: the
 * tenant's queue (ordering), the idempotency key, the attempts and their backoff, the
 * timeline record of every attempt, and the re-check under the tenant's lock that
 * makes an answer arriving after a report harmless.
 */
export interface CallKind {
  /** The kind's name, carried by its jobs (`CallJob.event`) and its timeline entries. */
  readonly name: string;
  /** The product URL it calls: a key of the product's `webhooks`. */
  readonly url: WebhookEvent;
  /**
   * The call to make, or `undefined` when it is no longer wanted (the tenant or the
   * change moved on). Read without locks: `stillWanted` decides again before anything
   * is applied.
   */
  prepare(db: Db, context: CallContext, job: CallJob, deps: PrepareDeps): PreparedCall | undefined | Promise<PreparedCall | undefined>;
  /**
   * With the tenant locked: whether the call is still wanted. A transient failure is
   * retried only then; an answer to a call no longer wanted is recorded as `late`.
   */
  stillWanted(tx: Db, tenant: TenantRecord, job: CallJob): boolean | Promise<boolean>;
  /**
   * What the settled call does, in a transaction with the tenant locked and the call
   * still wanted; it records `settlement.entry` with its effect. Without it, a settled
   * call is only recorded in the timeline (a notice).
   */
  settle?(tx: Db, deps: CallKindDeps, tenant: TenantRecord, job: CallJob, settlement: CallSettlement): Promise<void>;
  /**
   * A quicker way to settle without a transaction (one guarded statement), tried first;
   * it resolves `false` when the locked way must decide. It does not record the attempt as
   * finished (`backend_call_attempts`), so once it applied the call must no longer be wanted
   * (`prepare` answers nothing): a run of the job after a lost completion then calls nobody.
   */
  settleQuickly?(deps: CallKindDeps, context: CallContext, job: CallJob, settlement: CallSettlement): Promise<boolean>;
  /** The deadline of the report that follows an accepted call in callback mode, if the kind waits for one. */
  readonly deadline?: ReportDeadline;
}
