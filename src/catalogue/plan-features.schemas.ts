import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';
import { Unit } from './features.schemas.ts';

/** When a metered limit starts again from zero. */
export const RESET_PERIODS = ['never', 'day', 'week', 'month', 'year'] as const;

const Reset = Type.Union(
  RESET_PERIODS.map((period) => Type.Literal(period)),
  { description: 'When usage of the limit starts again; `never` when omitted' },
);
const Limit = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Most a tenant on the plan may use; null for unlimited (and for a boolean feature, "included")',
});

// Usage: how the limit is enforced, when it warns, and what going over costs (ADR 0010).
const Enforcement = Type.Union([Type.Literal('soft'), Type.Literal('hard')], {
  description: '`soft` (default): usage past the limit is allowed and warned about; `hard`: the entitlement check refuses it',
});
const Thresholds = Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), {
  maxItems: 10,
  uniqueItems: true,
  description:
    'Percentages of the limit that emit `usage.threshold_reached` (100: `usage.limit_reached`) once per window; default [80, 100]',
});
const OveragePrice = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Price per unit over the limit, in minor units of the plan price’s currency, billed in arrears; null: none',
});
const UsageFields = {
  enforcement: Type.Optional(Enforcement),
  thresholds: Type.Optional(Thresholds),
  overageUnitPrice: Type.Optional(Nullable(OveragePrice)),
};

export const PlanFeatureAttach = Type.Object(
  {
    feature: Type.String({ minLength: 1, maxLength: 200, description: 'Feature id or name within the product' }),
    limit: Type.Optional(Nullable(Limit)),
    unit: Type.Optional(Nullable(Unit)),
    reset: Type.Optional(Reset),
    ...UsageFields,
  },
  { additionalProperties: false },
);
export type PlanFeatureAttachBody = Static<typeof PlanFeatureAttach>;

export const PlanFeatureUpdate = Type.Object(
  {
    limit: Type.Optional(Nullable(Limit)),
    unit: Type.Optional(Nullable(Unit)),
    reset: Type.Optional(Reset),
    ...UsageFields,
  },
  { additionalProperties: false },
);
export type PlanFeatureUpdateBody = Static<typeof PlanFeatureUpdate>;

export const PlanFeature = Type.Object({
  id: Type.String(),
  planId: Type.String(),
  featureId: Type.String(),
  featureName: Type.String(),
  featureDisplayName: Type.String(),
  featureType: Type.String(),
  limit: Nullable(Type.Integer()),
  unit: Nullable(Type.String()),
  reset: Type.String(),
  enforcement: Type.String(),
  thresholds: Type.Array(Type.Integer()),
  overageUnitPrice: Nullable(Type.Integer()),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PlanFeatureView = Static<typeof PlanFeature>;
