import type { TaskList } from 'graphile-worker';
import { createEgressPolicy } from '../platform/egress.ts';
import { createOutboundHttp } from '../platform/outbound.ts';
import type { Component } from '../platform/supervisor.ts';
import type { Services } from '../routes.ts';
import { HEALTH_HISTORY_TASK, healthSchedules, keepHealthHistory } from './health.jobs.ts';
import { startProber } from './prober.ts';

/**
 * This node's share of health probing as a supervised component (`health-prober`; worker
 * nodes, unless `LANDLORD_HEALTH_CONCURRENCY=0` opts the node out: then undefined). Each
 * instance has its own connection pools, sized to the per-host bound, so probes never
 * queue behind (or ahead of) lifecycle calls to the same backend. A failed claim or
 * write stops the instance (leases it held run out and the tenants are probed again),
 * and the supervisor starts another.
 */
export function healthProberComponent(services: Services): Component | undefined {
  const { config } = services;
  if (config.healthConcurrency === 0) return undefined;
  return {
    name: 'health-prober',
    async start(fail) {
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
          onError: fail,
        },
        config.healthTickMs,
      );
      return {
        async stop() {
          await prober.stop();
          await http.close();
        },
      };
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
