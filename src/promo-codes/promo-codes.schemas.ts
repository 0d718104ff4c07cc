import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';

/** A promo code's code: letters, digits, `_` and `-`, matched ignoring case. */
export const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'Matched ignoring case' });

/** Body of `POST /v1/products/{product}/promo-codes`. */
export const PromoCodeCreate = Type.Object(
  {
    code: Code,
    price: Type.String({ minLength: 1, maxLength: 200, description: 'The plan price it grants (id or name), published' }),
    durationDays: Type.Integer({ minimum: 1, maximum: 3650, description: 'How long the tenant gets the plan' }),
    activeFrom: Type.Optional(Nullable(Timestamp)),
    activeUntil: Type.Optional(Nullable(Timestamp)),
    maxRedemptions: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'Total redemptions; null: unlimited' })),
    ),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PromoCodeCreateBody = Static<typeof PromoCodeCreate>;

/** Body of `PATCH /v1/products/{product}/promo-codes/{code}`. */
export const PromoCodeUpdate = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    activeUntil: Type.Optional(Nullable(Timestamp)),
    maxRedemptions: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100_000_000 }))),
  },
  { additionalProperties: false },
);
export type PromoCodeUpdateBody = Static<typeof PromoCodeUpdate>;

/** A promo code. Every tenant may redeem it once. */
export const PromoCode = Type.Object({
  id: Type.String(),
  code: Type.String(),
  price: Type.Object({ id: Type.String(), name: Type.String() }),
  durationDays: Type.Integer(),
  activeFrom: Nullable(Timestamp),
  activeUntil: Nullable(Timestamp),
  maxRedemptions: Nullable(Type.Integer()),
  redemptions: Type.Integer(),
  oncePerTenant: Type.Boolean({ description: 'Always true: a tenant redeems a code once' }),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PromoCodeView = Static<typeof PromoCode>;
