import { type Static, Type } from 'typebox';
import { Nullable, SystemName, Timestamp } from '../http/schemas.ts';

/** How often a price is charged; `custom` is every `customDays` days, `unlimited` once for ever. */
export const PRICE_CYCLES = ['day', 'week', 'month', 'year', 'custom', 'unlimited'] as const;
export type PriceCycle = (typeof PRICE_CYCLES)[number];

const Cycle = Type.Union(
  PRICE_CYCLES.map((cycle) => Type.Literal(cycle)),
  { description: '`custom` needs `customDays`; `unlimited` is paid once' },
);
const CustomDays = Type.Integer({ minimum: 1, maximum: 3650, description: 'Length of a `custom` cycle in days; only with `custom`' });
const Amount = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'In minor units (cents)' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. `EUR`' });
const TrialDays = Type.Integer({
  minimum: 0,
  maximum: 730,
  description: 'Days of free trial a new subscription to this price starts with; 0 when omitted',
});
const PriceName = SystemName('Price name, unique within the product (RoSaaS calls it `planPriceSystemName`)');

export const PriceCreate = Type.Object(
  {
    name: PriceName,
    cycle: Cycle,
    customDays: Type.Optional(Nullable(CustomDays)),
    amount: Amount,
    currency: Currency,
    trialDays: Type.Optional(TrialDays),
    published: Type.Optional(Type.Boolean({ description: 'Offered for sale; false (a draft) when omitted' })),
  },
  { additionalProperties: false },
);
export type PriceCreateBody = Static<typeof PriceCreate>;

export const PriceUpdate = Type.Object(
  {
    name: Type.Optional(PriceName),
    cycle: Type.Optional(Cycle),
    customDays: Type.Optional(Nullable(CustomDays)),
    amount: Type.Optional(Amount),
    currency: Type.Optional(Currency),
    trialDays: Type.Optional(TrialDays),
  },
  { additionalProperties: false },
);
export type PriceUpdateBody = Static<typeof PriceUpdate>;

export const Price = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  planId: Type.String(),
  name: Type.String(),
  cycle: Type.String(),
  customDays: Nullable(Type.Integer()),
  amount: Type.Integer(),
  currency: Type.String(),
  trialDays: Type.Integer(),
  published: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PriceView = Static<typeof Price>;
