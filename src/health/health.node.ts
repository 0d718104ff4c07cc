import type { TaskList } from 'graphile-worker';
import { createEgressPolicy } from '../platform/egress.ts';
import { createOutboundHttp } from '../platform/outbound.ts';
import type { Services } from '../routes.ts';
import { HEALTH_HISTORY_TASK, healthSchedules, keepHealthHistory } from './health.jobs.ts';
import { startProber } from './prober.ts';

/**
 * Starts this node's share of health probing (worker nodes; `LANDLORD_HEALTH_CONCURRENCY=0`
 * opts a node out). Probes get their own connection pools, sized to the per-host
 * bound, so they never queue behind (or ahead of) lifecycle calls to the same backend.
 */
export function startHealthProber(services: Services): { stop(): Promise<void> } {
  const { config } = services;
  if (config.healthConcurrency === 0) return { stop: async () => {} };
  const http = createOutboundHttp({ egress: createEgressPolicy(config.egressAllow), connectionsPerOrigin: config.healthPerHost });
  const prober = startProber(
    {
      db: services.db,
      http,
      box: services.box,
      clock: services.clock,
      nodeId: services.nodeId,
      concurrency: config.healthConcurrency,
      perProduct: config.healthPerProduct,
      perHost: config.healthPerHost,
      onError: (error) => services.log.warn({ err: error }, 'health prober'),
    },
    config.healthTickMs,
  );
  return {
    async stop() {
      await prober.stop();
      await http.close();
    },
  };
}

/** The health tasks and schedules, for `tasks.ts`. */
export function healthTasks(services: Services): { tasks: TaskList; schedules: typeof healthSchedules } {
  const { config } = services;
  return {
    tasks: {
      [HEALTH_HISTORY_TASK]: keepHealthHistory(services.db, services.clock, {
        probeHours: config.healthProbeRetentionHours,
        hourlyDays: config.healthHourlyRetentionDays,
      }),
    },
    schedules: healthSchedules,
  };
}
