/**
 * The tenant lifecycle as data: which actor may take which action from which status,
 * where it leads, and what it sets in motion. Everything that moves a tenant reads
 * this table; `workflow.test.ts` proves its properties (reachability, no ambiguity,
 * `deleted` final, a way out of every other status).
 */

export const STATUSES = [
  'record_created',
  'sending_creation_request',
  'creating',
  'created_as_active',
  'sending_activation_request',
  'activating',
  'active',
  'sending_deactivation_request',
  'deactivating',
  'inactive',
  'sending_deletion_request',
  'deleting',
  'deleted',
  'failure',
] as const;
export type Status = (typeof STATUSES)[number];

/** The four operations a tenant goes through, each a call to the product's backend. */
export const STEPS = ['creation', 'activation', 'deactivation', 'deletion'] as const;
export type Step = (typeof STEPS)[number];

/**
 * Who takes an action: an `operator` (operator key or admin), the product's
 * `external_system` (its client credentials), or Landlord itself (`system`: the
 * outcome of a call, a timeout).
 */
export type WorkflowActor = 'operator' | 'external_system' | 'system';

export const ACTIONS = [
  'send_creation_request',
  'activate',
  'deactivate',
  'delete',
  'call_accepted',
  'call_completed',
  'call_refused',
  'callback_timed_out',
  'report_created',
  'report_active',
  'report_inactive',
  'report_deleted',
  'report_failure',
  'retry',
  'undo',
] as const;
export type Action = (typeof ACTIONS)[number];

/** What a transition sets in motion besides the status change. */
export type Effect =
  /** Call the backend for this step (durable job, enqueued with the transition). */
  | { call: Step }
  /** Remember the step as failed, with the status to go back to on undo. */
  | { fail: Step }
  /** Start waiting for the backend's report of this step (callback mode). */
  | { awaitReport: Step }
  /** The step is over: clear failure and waiting state. */
  | { settle: true };

/** One row of the workflow table. */
export interface Transition {
  from: Status;
  /** Only from `failure` whose failed step is this one. */
  failedStep?: Step;
  action: Action;
  actors: readonly WorkflowActor[];
  /** `'last_stable'`: the status the tenant was in before the failed step. */
  to: Status | 'last_stable';
  effects: readonly Effect[];
}

const OPERATOR = ['operator'] as const;
const REQUESTERS = ['operator', 'external_system'] as const;
const SYSTEM = ['system'] as const;
const BACKEND = ['external_system'] as const;

/** `sending_<step>_request`, `<step>ing` and the status the step ends in. */
export const PHASES: Record<Step, { sending: Status; working: Status; done: Status }> = {
  creation: { sending: 'sending_creation_request', working: 'creating', done: 'created_as_active' },
  activation: { sending: 'sending_activation_request', working: 'activating', done: 'active' },
  deactivation: { sending: 'sending_deactivation_request', working: 'deactivating', done: 'inactive' },
  deletion: { sending: 'sending_deletion_request', working: 'deleting', done: 'deleted' },
};

const REPORT_OF: Record<Step, Action> = {
  creation: 'report_created',
  activation: 'report_active',
  deactivation: 'report_inactive',
  deletion: 'report_deleted',
};

/** The rows every step shares: the call's outcome, the backend's reports, and recovery from failure. */
function stepRows(step: Step): Transition[] {
  const { sending, working, done } = PHASES[step];
  const report = REPORT_OF[step];
  return [
    { from: sending, action: 'call_accepted', actors: SYSTEM, to: working, effects: [{ awaitReport: step }] },
    { from: sending, action: 'call_completed', actors: SYSTEM, to: done, effects: [{ settle: true }] },
    // A refused creation leaves nothing behind at the backend: back to the record.
    step === 'creation'
      ? { from: sending, action: 'call_refused', actors: SYSTEM, to: 'record_created', effects: [{ settle: true }] }
      : { from: sending, action: 'call_refused', actors: SYSTEM, to: 'failure', effects: [{ fail: step }] },
    { from: working, action: 'callback_timed_out', actors: SYSTEM, to: 'failure', effects: [{ fail: step }] },
    // The backend may report before it answers Landlord's call, so reports are taken while sending too.
    { from: sending, action: report, actors: BACKEND, to: done, effects: [{ settle: true }] },
    { from: working, action: report, actors: BACKEND, to: done, effects: [{ settle: true }] },
    // A late success still completes the step.
    { from: 'failure', failedStep: step, action: report, actors: BACKEND, to: done, effects: [{ settle: true }] },
    { from: sending, action: 'report_failure', actors: BACKEND, to: 'failure', effects: [{ fail: step }] },
    { from: working, action: 'report_failure', actors: BACKEND, to: 'failure', effects: [{ fail: step }] },
    { from: 'failure', failedStep: step, action: 'retry', actors: OPERATOR, to: sending, effects: [{ call: step }] },
    { from: 'failure', failedStep: step, action: 'undo', actors: OPERATOR, to: 'last_stable', effects: [{ settle: true }] },
    // Whatever failed, the tenant can still be deleted (deletion's own failure retries instead).
    ...(step === 'deletion'
      ? []
      : [
          {
            from: 'failure' as const,
            failedStep: step,
            action: 'delete' as const,
            actors: OPERATOR,
            to: 'sending_deletion_request' as const,
            effects: [{ call: 'deletion' as const }],
          },
        ]),
  ];
}

/** The workflow table. */
export const WORKFLOW: readonly Transition[] = [
  {
    from: 'record_created',
    action: 'send_creation_request',
    actors: [...REQUESTERS, 'system'],
    to: 'sending_creation_request',
    effects: [{ call: 'creation' }],
  },
  // Nothing exists at the backend yet, so a record is deleted without a call.
  { from: 'record_created', action: 'delete', actors: OPERATOR, to: 'deleted', effects: [{ settle: true }] },
  {
    from: 'created_as_active',
    action: 'deactivate',
    actors: REQUESTERS,
    to: 'sending_deactivation_request',
    effects: [{ call: 'deactivation' }],
  },
  { from: 'active', action: 'deactivate', actors: REQUESTERS, to: 'sending_deactivation_request', effects: [{ call: 'deactivation' }] },
  { from: 'inactive', action: 'activate', actors: REQUESTERS, to: 'sending_activation_request', effects: [{ call: 'activation' }] },
  // The system deletes an inactive tenant whose deletion was asked for while it was live.
  { from: 'inactive', action: 'delete', actors: [...OPERATOR, 'system'], to: 'sending_deletion_request', effects: [{ call: 'deletion' }] },
  ...STEPS.flatMap(stepRows),
];

/** Statuses in which the tenant is live (probed for health, `isActive` in RoSaaS terms). */
export const LIVE_STATUSES: readonly Status[] = ['created_as_active', 'active'];

/** Statuses a tenant rests in between operations; `undo` returns to one of these. */
export const STABLE_STATUSES: readonly Status[] = ['record_created', 'created_as_active', 'active', 'inactive', 'deleted'];

/** The row for `action` from a tenant's state, if the workflow has one. */
export function findTransition(state: { status: Status; failedStep: Step | null }, action: Action): Transition | undefined {
  return WORKFLOW.find(
    (row) => row.from === state.status && row.action === action && (row.failedStep === undefined || row.failedStep === state.failedStep),
  );
}

/** The actions `actor` may take now, in table order, each once. */
export function availableActions(state: { status: Status; failedStep: Step | null }, actor: WorkflowActor): Action[] {
  const actions = WORKFLOW.filter(
    (row) =>
      row.from === state.status && row.actors.includes(actor) && (row.failedStep === undefined || row.failedStep === state.failedStep),
  ).map((row) => row.action);
  return [...new Set(actions)];
}

/** The step a `sending_*`/`*ing` status belongs to. */
export function stepOf(status: Status): Step | undefined {
  return STEPS.find((step) => PHASES[step].sending === status || PHASES[step].working === status);
}

/** The part of a tenant the workflow reads and writes. */
export interface TenantState {
  status: Status;
  failedStep: Step | null;
  /** The last stable status the tenant was in: where `undo` returns to. */
  lastStable: Status | null;
}

/** The state a transition leads to. */
export function nextState(state: TenantState, transition: Transition): TenantState {
  for (const effect of transition.effects) {
    if ('fail' in effect) return { status: 'failure', failedStep: effect.fail, lastStable: state.lastStable };
  }
  const status = transition.to === 'last_stable' ? (state.lastStable ?? 'record_created') : transition.to;
  return { status, failedStep: null, lastStable: STABLE_STATUSES.includes(status) ? status : state.lastStable };
}

/** The call a transition asks for, if any. */
export function callOf(transition: Transition): Step | undefined {
  for (const effect of transition.effects) if ('call' in effect) return effect.call;
  return undefined;
}
