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

export const PlanFeatureAttach = Type.Object(
  {
    feature: Type.String({ minLength: 1, maxLength: 200, description: 'Feature id or name within the product' }),
    limit: Type.Optional(Nullable(Limit)),
    unit: Type.Optional(Nullable(Unit)),
    reset: Type.Optional(Reset),
  },
  { additionalProperties: false },
);
export type PlanFeatureAttachBody = Static<typeof PlanFeatureAttach>;

export const PlanFeatureUpdate = Type.Object(
  {
    limit: Type.Optional(Nullable(Limit)),
    unit: Type.Optional(Nullable(Unit)),
    reset: Type.Optional(Reset),
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
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PlanFeatureView = Static<typeof PlanFeature>;
