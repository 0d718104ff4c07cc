import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';
import { Email } from '../people/people.schemas.ts';
import { MAESTRANO_ROLES } from './marketplaces.schemas.ts';

/** Body of `POST /v1/marketplaces/{marketplace}/groups`: the customer group's profile. */
export const GroupCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'The group’s name (the tenant’s display name)' }),
    email: Type.Optional(Email),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217; USD when omitted' })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone; UTC when omitted' })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    city: Type.Optional(Type.String({ maxLength: 200 })),
    hasCreditCard: Type.Optional(Type.Boolean()),
    price: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'A published plan price: the group is subscribed to it (its trial → free_trial_end_at)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type GroupCreateBody = Static<typeof GroupCreate>;

/** Body of `POST /v1/marketplaces/{marketplace}/groups/{group}/users`: a person joining the group. */
export const GroupUserCreate = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    surname: Type.String({ minLength: 1, maxLength: 100 }),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    role: Type.Union(
      MAESTRANO_ROLES.map((role) => Type.Literal(role)),
      { description: 'The Maestrano role; the marketplace maps it to a product role' },
    ),
  },
  { additionalProperties: false },
);
export type GroupUserCreateBody = Static<typeof GroupUserCreate>;

/** A group as the native API shows it. */
export const Group = Type.Object({
  uid: Type.String({ description: '`cld-<n>`' }),
  tenant: Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() }),
  marketplace: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  currency: Type.String(),
  timezone: Type.String(),
  country: Nullable(Type.String()),
  city: Nullable(Type.String()),
  hasCreditCard: Type.Boolean(),
  deletedAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type GroupView = Static<typeof Group>;

/** A group member as the native API shows it. */
export const GroupUser = Type.Object({
  uid: Type.String({ description: '`usr-<n>`' }),
  group: Type.String(),
  email: Type.String(),
  name: Type.String(),
  surname: Type.String(),
  role: Type.String(),
  productRoles: Type.Array(Type.String()),
});
export type GroupUserView = Static<typeof GroupUser>;
