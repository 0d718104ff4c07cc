import { type Static, Type } from 'typebox';
import { Description, DisplayName, SystemName, Timestamp } from '../http/schemas.ts';

const DisplayOrder = Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'Plans are shown in ascending order' });

export const PlanCreate = Type.Object(
  {
    name: SystemName('Plan name, unique within the product'),
    displayName: DisplayName,
    description: Type.Optional(Description),
    displayOrder: Type.Optional(DisplayOrder),
    published: Type.Optional(Type.Boolean({ description: 'Offered for sale; false (a draft) when omitted' })),
  },
  { additionalProperties: false },
);
export type PlanCreateBody = Static<typeof PlanCreate>;

export const PlanUpdate = Type.Object(
  {
    name: Type.Optional(SystemName('Plan name, unique within the product')),
    displayName: Type.Optional(DisplayName),
    description: Type.Optional(Description),
    displayOrder: Type.Optional(DisplayOrder),
  },
  { additionalProperties: false },
);
export type PlanUpdateBody = Static<typeof PlanUpdate>;

export const Plan = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  displayOrder: Type.Integer(),
  published: Type.Boolean(),
  version: Type.Integer({ description: 'Goes up by one on every change; the ETag carries it' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PlanView = Static<typeof Plan>;
