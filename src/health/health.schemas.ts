import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';
import { HEALTH_STATES } from './health.rules.ts';

/** A tenant's current health, on every tenant read (null while the tenant is not live). */
export const TenantHealth = Type.Object(
  {
    state: Type.Enum(HEALTH_STATES, {
      description: '`unknown` until the first probe; `suspect` after a failure; `unavailable` after `failureThreshold` failures in a row',
    }),
    since: Timestamp,
    lastProbeAt: Nullable(Timestamp),
    latencyMs: Nullable(Type.Integer({ description: 'Of the last probe' })),
    lastStatus: Nullable(Type.Integer({ description: 'HTTP status of the last answer' })),
    consecutiveFailures: Type.Integer(),
    lastError: Nullable(Type.String({ description: 'Why the last probe failed' })),
    nextProbeAt: Nullable(Timestamp),
    paused: Type.Boolean({ description: 'Probing is paused for this tenant or its whole product' }),
    pausedReason: Nullable(Type.String()),
    url: Nullable(Type.String({ description: "The tenant's own health-check URL, when it overrides the product's" })),
    outageId: Nullable(Type.String({ description: 'The open outage (the `idempotency-key` of its unavailable call)' })),
  },
  { description: 'Current health; null while the tenant is not live (created_as_active or active)' },
);
export type TenantHealthView = Static<typeof TenantHealth>;

const Window = Type.Object({
  uptime: Nullable(
    Type.Number({ description: 'Share of the observed time in which probes succeeded (0–1); null when nothing was observed' }),
  ),
  probes: Type.Integer(),
  failures: Type.Integer(),
  latencyMs: Nullable(
    Type.Object(
      { mean: Type.Integer(), p50: Type.Integer(), p95: Type.Integer(), p99: Type.Integer() },
      { description: 'Of healthy probes; percentiles are the upper bound of a histogram bucket' },
    ),
  ),
});

/** One availability change, as the timeline keeps it. */
export const HealthChangeEntry = Type.Object({
  at: Timestamp,
  change: Type.String({ description: '`suspect`, `unavailable` or `recovered`' }),
  from: Type.String(),
  to: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

/** One kept probe (failures and probes that changed the state). */
export const ProbeEntry = Type.Object({
  at: Timestamp,
  ok: Type.Boolean(),
  status: Nullable(Type.Integer()),
  latencyMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  state: Type.String(),
});

/** `GET /v1/tenants/{tenant}/health`. */
export const TenantHealthReport = Type.Object({
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  current: Nullable(TenantHealth),
  uptime: Type.Object({ '24h': Window, '7d': Window, '30d': Window }),
  changes: Type.Array(HealthChangeEntry, { description: 'Availability changes, newest first (at most 20)' }),
  recentProbes: Type.Array(ProbeEntry, { description: 'Failed probes and probes that changed the state, newest first (at most 20)' }),
});

const WorstTenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.Enum(HEALTH_STATES),
  since: Timestamp,
  consecutiveFailures: Type.Integer(),
  lastError: Nullable(Type.String()),
  lastProbeAt: Nullable(Timestamp),
});

/** One product's line of `GET /v1/health/summary`. */
export const ProductHealthSummary = Type.Object({
  product: Type.Object({ id: Type.String(), name: Type.String() }),
  paused: Type.Boolean(),
  counts: Type.Object({
    healthy: Type.Integer(),
    suspect: Type.Integer(),
    unavailable: Type.Integer(),
    unknown: Type.Integer(),
    paused: Type.Integer({ description: 'Tenants not probed now (their own pause or the product’s); also counted in their state' }),
  }),
  worst: Type.Array(WorstTenant, { description: 'Unavailable, then suspect tenants, longest failing first' }),
});

export const SummaryQuery = Type.Object(
  {
    product: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name' })),
    worst: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 10, description: 'How many worst tenants per product' })),
  },
  { additionalProperties: false },
);

export const PauseBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1000, description: 'Shown with the health and kept in the audit log' })) },
  { additionalProperties: false },
);

export const HealthSettingsBody = Type.Object(
  {
    url: Nullable(
      Type.String({
        maxLength: 2000,
        description: "The tenant's own health-check URL (`{name}`, `{tenantId}` filled in); null returns to the product's",
      }),
    ),
  },
  { additionalProperties: false },
);

/** What `POST …/health/probe` found, and the health after it. */
export const ProbeNowResult = Type.Object({
  probe: Type.Object({
    ok: Type.Boolean(),
    status: Nullable(Type.Integer()),
    latencyMs: Type.Integer(),
    error: Nullable(Type.String()),
  }),
  health: Nullable(TenantHealth),
});
