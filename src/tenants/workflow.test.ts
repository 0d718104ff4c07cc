import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  availableActions,
  findTransition,
  nextState,
  STATUSES,
  STEPS,
  type Status,
  type Step,
  type TenantState,
  WORKFLOW,
} from './workflow.ts';

const start: TenantState = { status: 'record_created', failedStep: null, lastStable: 'record_created' };
const key = (state: TenantState) => `${state.status}/${state.failedStep ?? ''}/${state.lastStable ?? ''}`;

/** Every state reachable from a new record, by breadth-first search over the table. */
function reachableStates(): TenantState[] {
  const seen = new Map([[key(start), start]]);
  const queue = [start];
  while (queue.length) {
    const state = queue.shift() as TenantState;
    for (const action of ACTIONS) {
      const row = findTransition(state, action);
      if (!row) continue;
      const next = nextState(state, row);
      if (!seen.has(key(next))) {
        seen.set(key(next), next);
        queue.push(next);
      }
    }
  }
  return [...seen.values()];
}

describe('the workflow table', () => {
  it('reaches every status from record_created', () => {
    const statuses = new Set(reachableStates().map((state) => state.status));
    expect([...statuses].sort()).toEqual([...STATUSES].sort());
  });

  it('reaches failure for every step', () => {
    const failed = new Set(
      reachableStates()
        .filter((state) => state.status === 'failure')
        .map((state) => state.failedStep),
    );
    expect([...failed].sort()).toEqual([...STEPS].sort());
  });

  it('has no ambiguous action: at most one row per status, failed step and action', () => {
    for (const status of STATUSES) {
      for (const failedStep of [null, ...STEPS] as (Step | null)[]) {
        for (const action of ACTIONS) {
          const rows = WORKFLOW.filter(
            (row) => row.from === status && row.action === action && (row.failedStep === undefined || row.failedStep === failedStep),
          );
          expect(rows.length, `${status}/${failedStep}/${action}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('makes deleted final', () => {
    expect(WORKFLOW.filter((row) => row.from === 'deleted')).toEqual([]);
  });

  it('gives every reachable state other than deleted a way out', () => {
    for (const state of reachableStates()) {
      if (state.status === 'deleted') continue;
      const ways = ACTIONS.filter((action) => findTransition(state, action));
      expect(ways.length, key(state)).toBeGreaterThan(0);
    }
  });

  it('lets Landlord alone resolve every sending and working status, so no tenant waits forever on a silent backend', () => {
    for (const state of reachableStates()) {
      if (!/^sending_|ing$/.test(state.status) || state.status === 'failure') continue;
      expect(availableActions(state, 'system').length, key(state)).toBeGreaterThan(0);
    }
  });

  it('keeps its invariants along any sequence of allowed actions', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(ACTIONS.length - 1), { maxLength: 60 }), (choices) => {
        let state = start;
        for (const choice of choices) {
          const row = findTransition(state, ACTIONS[choice] as (typeof ACTIONS)[number]);
          if (!row) continue;
          const next = nextState(state, row);
          expect(state.status).not.toBe('deleted');
          expect(STATUSES).toContain(next.status);
          // A failure always remembers its step; nothing else carries one.
          expect(next.failedStep !== null).toBe(next.status === 'failure');
          // Undo always has a stable status to return to.
          expect(next.lastStable).not.toBeNull();
          state = next;
        }
      }),
    );
  });

  it('returns a refused creation to record_created and other refusals to failure', () => {
    const sending = (status: Status): TenantState => ({ status, failedStep: null, lastStable: 'inactive' });
    const creation = findTransition(sending('sending_creation_request'), 'call_refused');
    expect(creation && nextState(sending('sending_creation_request'), creation).status).toBe('record_created');
    const activation = findTransition(sending('sending_activation_request'), 'call_refused');
    expect(activation && nextState(sending('sending_activation_request'), activation)).toEqual({
      status: 'failure',
      failedStep: 'activation',
      lastStable: 'inactive',
    });
  });

  it('undoes a failed step back to the last stable status', () => {
    const failed: TenantState = { status: 'failure', failedStep: 'deactivation', lastStable: 'active' };
    const undo = findTransition(failed, 'undo');
    expect(undo && nextState(failed, undo).status).toBe('active');
    expect(availableActions(failed, 'operator')).toEqual(expect.arrayContaining(['retry', 'undo', 'delete']));
    expect(availableActions(failed, 'external_system')).toEqual(['report_inactive']);
  });
});
