import { Counter, Gauge, type Registry } from 'prom-client';

/** Where a supervised component is in its life. */
export type ComponentState = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';
const STATES: readonly ComponentState[] = ['starting', 'running', 'restarting', 'stopped', 'failed'];

/** The supervisor's metrics: each component's state, restarts and failures, labelled `component`. */
export interface ComponentMetrics {
  state(component: string, state: ComponentState): void;
  restarted(component: string): void;
  failed(component: string): void;
}

/** Registers `landlord_component_up`, `_state`, `_restarts_total` and `_failures_total` in `registry`. */
export function createComponentMetrics(registry: Registry): ComponentMetrics {
  const up = new Gauge({
    name: 'landlord_component_up',
    help: 'Whether a background component runs (1) or not (0)',
    labelNames: ['component'] as const,
    registers: [registry],
  });
  const state = new Gauge({
    name: 'landlord_component_state',
    help: 'The state a background component is in: 1 for its current state, 0 for the others',
    labelNames: ['component', 'state'] as const,
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'landlord_component_restarts_total',
    help: 'Times a background component was running again after it stopped by itself',
    labelNames: ['component'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'landlord_component_failures_total',
    help: 'Times a background component stopped by itself (a crash, a lost connection)',
    labelNames: ['component'] as const,
    registers: [registry],
  });
  return {
    state(component, current) {
      up.set({ component }, current === 'running' ? 1 : 0);
      for (const each of STATES) state.set({ component, state: each }, each === current ? 1 : 0);
    },
    restarted: (component) => restarts.inc({ component }),
    failed: (component) => failures.inc({ component }),
  };
}
