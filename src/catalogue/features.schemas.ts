import { type Static, Type } from 'typebox';
import { Description, DisplayName, Nullable, SystemName, Timestamp } from '../http/schemas.ts';

/** What a feature measures: included or not (`boolean`), or up to a limit (`number`). */
export const FEATURE_TYPES = ['boolean', 'number'] as const;

const FeatureType = Type.Union(
  FEATURE_TYPES.map((type) => Type.Literal(type)),
  { description: '`boolean`: included or not; `number`: up to a limit' },
);
export const Unit = Type.String({ minLength: 1, maxLength: 50, description: 'e.g. `GB`, `users`' });
const FeatureName = SystemName('Feature name, unique within the product');

export const FeatureCreate = Type.Object(
  {
    name: FeatureName,
    displayName: DisplayName,
    description: Type.Optional(Description),
    type: FeatureType,
    unit: Type.Optional(Nullable(Unit)),
  },
  { additionalProperties: false },
);
export type FeatureCreateBody = Static<typeof FeatureCreate>;

export const FeatureUpdate = Type.Object(
  {
    name: Type.Optional(FeatureName),
    displayName: Type.Optional(DisplayName),
    description: Type.Optional(Description),
    type: Type.Optional(FeatureType),
    unit: Type.Optional(Nullable(Unit)),
  },
  { additionalProperties: false },
);
export type FeatureUpdateBody = Static<typeof FeatureUpdate>;

export const Feature = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  type: Type.String(),
  unit: Nullable(Type.String()),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type FeatureView = Static<typeof Feature>;
