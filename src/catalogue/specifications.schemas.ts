import { type Static, Type } from 'typebox';
import { Description, DisplayName, Nullable, Timestamp } from '../http/schemas.ts';
import { SPECIFICATION_TYPES } from './specification-values.ts';

const SpecificationName = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_-]{0,62}$',
  description: "The key of the value in a tenant's `specifications` (a letter, then letters, digits, - and _; at most 63)",
});
const SpecificationType = Type.Union(
  SPECIFICATION_TYPES.map((type) => Type.Literal(type)),
  { description: 'What a value must be; values are normalised to it ("42" becomes 42 for a number)' },
);
// Longer than patternProblem's limit on purpose, so an over-long pattern is answered with its reason.
const Pattern = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'JavaScript regular expression (Unicode mode) every value must match',
});

export const SpecificationCreate = Type.Object(
  {
    name: SpecificationName,
    displayName: DisplayName,
    description: Type.Optional(Description),
    type: SpecificationType,
    required: Type.Optional(Type.Boolean({ description: 'Every tenant must have a value; false when omitted' })),
    pattern: Type.Optional(Nullable(Pattern)),
    userEditable: Type.Optional(Type.Boolean({ description: 'The tenant may change the value later; true when omitted' })),
    published: Type.Optional(Type.Boolean({ description: 'Asked of tenants; false (a draft) when omitted' })),
  },
  { additionalProperties: false },
);
export type SpecificationCreateBody = Static<typeof SpecificationCreate>;

export const SpecificationUpdate = Type.Object(
  {
    name: Type.Optional(SpecificationName),
    displayName: Type.Optional(DisplayName),
    description: Type.Optional(Description),
    type: Type.Optional(SpecificationType),
    required: Type.Optional(Type.Boolean()),
    pattern: Type.Optional(Nullable(Pattern)),
    userEditable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SpecificationUpdateBody = Static<typeof SpecificationUpdate>;

export const Specification = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  type: Type.String(),
  required: Type.Boolean(),
  pattern: Nullable(Type.String()),
  userEditable: Type.Boolean(),
  published: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type SpecificationView = Static<typeof Specification>;
