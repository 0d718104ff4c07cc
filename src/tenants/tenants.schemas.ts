import { type Static, Type } from 'typebox';
import { TenantHealth } from '../health/health.schemas.ts';
import { DisplayName, JsonObject, Nullable, Timestamp } from '../http/schemas.ts';
import { ACTIONS, STATUSES, STEPS } from './workflow.ts';

const TenantName = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'Unique name: lower case letters, digits and inner hyphens, 1–63 characters (a DNS label)',
});

const Specifications = Type.Record(Type.String({ maxLength: 63 }), Type.Unknown(), {
  description: "Values of the product's published specifications, by specification name",
});

export const TenantCreate = Type.Object(
  {
    product: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name (a product client may omit it: its own product)' }),
    ),
    name: TenantName,
    displayName: DisplayName,
    specifications: Type.Optional(Specifications),
    metadata: Type.Optional(JsonObject),
    plan: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A published plan price of the product, by id or name' })),
  },
  { additionalProperties: false },
);
export type TenantCreateBody = Static<typeof TenantCreate>;

export const TenantUpdate = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    specifications: Type.Optional(
      Type.Record(Type.String({ maxLength: 63 }), Type.Unknown(), { description: 'Merged into the current values; null removes a value' }),
    ),
  },
  { additionalProperties: false },
);
export type TenantUpdateBody = Static<typeof TenantUpdate>;

export const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  product: Type.Object({ id: Type.String(), name: Type.String() }),
  status: Type.Enum(STATUSES),
  failedStep: Nullable(Type.Enum(STEPS)),
  specifications: JsonObject,
  metadata: JsonObject,
  planPrice: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  health: Nullable(TenantHealth),
  actions: Type.Array(Type.Enum(ACTIONS), {
    description: 'The lifecycle actions the caller may take now',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type TenantView = Static<typeof Tenant>;

export const TenantListQuery = Type.Object(
  {
    product: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name' })),
    status: Type.Optional(Type.Enum(STATUSES)),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Prefix of the name or display name (case-insensitive)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** Metadata is owned by the product's backend: any JSON object up to 64 KiB. */
export const METADATA_MAX_BYTES = 64 * 1024;
