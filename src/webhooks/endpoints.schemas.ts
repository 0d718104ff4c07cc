import { type Static, Type } from 'typebox';
import { Description, Nullable, Timestamp } from '../http/schemas.ts';

const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'http(s) URL; private and loopback addresses are refused unless allowed by LANDLORD_EGRESS_ALLOW',
});
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: 100,
  description: 'Event types to receive (`tenant.*` matches a prefix); empty or absent: all',
});

export const EndpointCreate = Type.Object(
  {
    url: Url,
    eventTypes: Type.Optional(EventTypes),
    product: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "Only this product's events (a product-scoped credential: always its own)",
      }),
    ),
    description: Type.Optional(Description),
    ordered: Type.Optional(Type.Boolean({ description: "Deliver each tenant's events strictly one at a time, in order" })),
    maxConcurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'Deliveries in flight to this endpoint at once, per node' }),
    ),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type EndpointCreateBody = Static<typeof EndpointCreate>;

export const EndpointUpdate = Type.Object(
  {
    url: Type.Optional(Url),
    eventTypes: Type.Optional(EventTypes),
    description: Type.Optional(Description),
    ordered: Type.Optional(Type.Boolean()),
    maxConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    enabled: Type.Optional(Type.Boolean({ description: 'Re-enabling also forgets the failure streak' })),
  },
  { additionalProperties: false },
);
export type EndpointUpdateBody = Static<typeof EndpointUpdate>;

export const Endpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  productId: Nullable(Type.String()),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  ordered: Type.Boolean(),
  maxConcurrency: Type.Integer(),
  failingSince: Nullable(Timestamp),
  secretRotation: Nullable(Type.Object({ previousSecretValidUntil: Timestamp })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type EndpointView = Static<typeof Endpoint>;

export const EndpointWithSecret = Type.Object({
  ...Endpoint.properties,
  secret: Type.String({ description: '`whsec_…`: shown only in this answer; verify signatures with it' }),
});

export const RotateSecret = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 7 * 86_400, description: 'How long the old secret keeps signing (default 24 h)' }),
    ),
  },
  { additionalProperties: false },
);
