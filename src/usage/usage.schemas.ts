import { type Static, Type } from 'typebox';
import { JsonObject, Nullable, Timestamp } from '../http/schemas.ts';

/** The most events one ingestion request may carry (the body is also capped at 1 MiB). */
export const MAX_EVENTS_PER_BATCH = 1000;

/** The most one event or adjustment may count: totals of a million of them stay exact in a JS number and a bigint. */
export const MAX_QUANTITY = 1_000_000_000_000;

const Quantity = Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: 'How much was used (whole units, at most 10^12)' });

/** One usage event as a product reports it. */
export const UsageEventInput = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'The producer’s idempotency key: the same id and body again is a duplicate, never counted twice',
    }),
    tenant: Type.String({ minLength: 1, maxLength: 200, description: 'Tenant id or name' }),
    feature: Type.String({ minLength: 1, maxLength: 200, description: 'Feature name (a `number` feature of the product)' }),
    quantity: Quantity,
    timestamp: Type.String({ format: 'date-time', description: 'When the usage happened (ISO 8601 with an offset)' }),
    properties: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);
export type UsageEventInputBody = Static<typeof UsageEventInput>;

export const UsageBatch = Type.Object(
  {
    product: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name; only for a credential not confined to one product' }),
    ),
    events: Type.Array(UsageEventInput, { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH }),
  },
  { additionalProperties: false },
);
export type UsageBatchBody = Static<typeof UsageBatch>;

/** What became of one event. */
export const UsageOutcome = Type.Object({
  id: Type.String(),
  // An enum, not a union of literals: the response serializer then writes 1,000 outcomes without trying branches.
  outcome: Type.Unsafe<'accepted' | 'duplicate' | 'rejected'>({ type: 'string', enum: ['accepted', 'duplicate', 'rejected'] }),
  code: Type.Optional(Type.String({ description: 'Why it was rejected (a stable code)' })),
  message: Type.Optional(Type.String()),
});
export type UsageOutcomeView = Static<typeof UsageOutcome>;

export const UsageBatchResult = Type.Object({
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  events: Type.Array(UsageOutcome, { description: 'One outcome per event, in the order sent' }),
});
export type UsageBatchResultView = Static<typeof UsageBatchResult>;

/** One feature of a tenant's plan, as the product sees it now. */
export const Entitlement = Type.Object({
  feature: Type.String(),
  type: Type.String({ description: '`boolean` or `number`' }),
  included: Type.Boolean(),
  limit: Nullable(Type.Integer({ description: 'null: unlimited' })),
  used: Type.Integer(),
  remaining: Nullable(Type.Integer({ description: 'null: unlimited' })),
  reset: Type.String(),
  windowStart: Nullable(Timestamp),
  windowEnd: Nullable(Timestamp),
  enforcement: Type.String({ description: '`soft` (warn) or `hard` (the product should refuse past the limit)' }),
  overLimit: Type.Boolean(),
});
export type EntitlementView = Static<typeof Entitlement>;

export const Entitlements = Type.Object({
  tenant: Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() }),
  plan: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  features: Type.Array(Entitlement),
});
export type EntitlementsView = Static<typeof Entitlements>;

export const CheckRequest = Type.Object(
  { quantity: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, default: 1, description: 'Defaults to 1' })) },
  { additionalProperties: false },
);

/** An integer or null as one JSON type list (not `anyOf`), which the hot responses serialize faster. */
const IntegerOrNull = (description: string) => Type.Unsafe<number | null>({ type: ['integer', 'null'], description });

export const CheckResult = Type.Object({
  allowed: Type.Boolean(),
  used: Type.Integer(),
  limit: IntegerOrNull('null: unlimited'),
  remaining: IntegerOrNull('null: unlimited'),
});
export type CheckResultView = Static<typeof CheckResult>;

export const UsageQuery = Type.Object(
  {
    feature: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting before' })),
  },
  { additionalProperties: false },
);

export const UsageWindow = Type.Object({
  feature: Type.String(),
  windowStart: Timestamp,
  windowEnd: Nullable(Timestamp),
  used: Type.Integer({ description: 'events + adjustments' }),
  events: Type.Integer({ description: 'How many events were counted' }),
  eventQuantity: Type.Integer(),
  adjusted: Type.Integer(),
});
export type UsageWindowView = Static<typeof UsageWindow>;

export const AdjustmentCreate = Type.Object(
  {
    feature: Type.String({ minLength: 1, maxLength: 200 }),
    quantity: Type.Integer({
      minimum: -MAX_QUANTITY,
      maximum: MAX_QUANTITY,
      description: 'Signed, not 0: negative takes usage away',
    }),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    timestamp: Type.Optional(Type.String({ format: 'date-time', description: 'Picks the window; now when omitted' })),
  },
  { additionalProperties: false },
);
export type AdjustmentCreateBody = Static<typeof AdjustmentCreate>;

export const Adjustment = Type.Object({
  id: Type.String(),
  feature: Type.String(),
  quantity: Type.Integer(),
  reason: Type.String(),
  windowStart: Timestamp,
  used: Type.Integer({ description: 'The window’s usage after the adjustment' }),
  createdAt: Timestamp,
});
export type AdjustmentView = Static<typeof Adjustment>;

export const UsageSettings = Type.Object(
  { graceMinutes: Type.Integer({ minimum: 0, maximum: 43200, description: 'Late events are accepted this long after their window ends' }) },
  { additionalProperties: false },
);
