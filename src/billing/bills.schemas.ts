import { Type } from 'typebox';
import { Nullable, RefParam, Timestamp } from '../http/schemas.ts';

/** OpenAPI tags of the bill routes. */
export const billTags = ['Bills'];

export const TenantParams = RefParam('tenant', 'Tenant id or name');
export const BillParams = RefParam('bill', 'Bill id');
export const RecurringBillParams = RefParam('recurringBill', 'Recurring bill id');

const Cents = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: "ISO 4217 code; the tenant's subscription's currency when omitted",
});
const Description = Type.String({ minLength: 1, maxLength: 1000 });

export const BillCreate = Type.Object(
  {
    priceCents: Cents('The price of one unit, in minor units'),
    currency: Type.Optional(Currency),
    description: Description,
    units: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: '1 when omitted' })),
    periodStartedAt: Type.Optional(Nullable(Type.String({ format: 'date-time', description: 'With periodEndedAt, or neither' }))),
    periodEndedAt: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  },
  { additionalProperties: false },
);

export const Bill = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  tenantId: Type.String(),
  recurringBillId: Nullable(Type.String()),
  execution: Nullable(Type.Integer({ description: "The recurring bill's execution it is (0 = the first)" })),
  priceCents: Type.Integer(),
  currency: Type.String(),
  description: Type.String(),
  units: Type.Number(),
  periodStartedAt: Nullable(Timestamp),
  periodEndedAt: Nullable(Timestamp),
  status: Type.Enum(['submitted', 'invoiced', 'cancelled'] as const),
  invoiceAt: Type.String({
    format: 'date-time',
    description: "When it goes on an invoice: the subscription's next boundary, or the end of the day",
  }),
  invoiceId: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: Type.Integer(),
});

export const RecurringBillCreate = Type.Object(
  {
    priceCents: Cents('Charged at each execution, in minor units'),
    currency: Type.Optional(Currency),
    description: Description,
    period: Type.String({ minLength: 1, maxLength: 20, description: 'Day, Week, SemiMonth (the 1st and 15th), Month or Year; any case' }),
    frequency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 365, description: 'Periods between executions (period × frequency ≤ one year); 1 when omitted' }),
    ),
    cycles: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Executions in all; null: until cancelled' })),
    ),
    startDate: Type.Optional(Type.String({ format: 'date-time', description: 'The first execution; now when omitted' })),
    initialCents: Type.Optional(Cents('Charged once at creation (a one-off bill), not a cycle')),
  },
  { additionalProperties: false },
);

export const RecurringBill = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  tenantId: Type.String(),
  priceCents: Type.Integer(),
  currency: Type.String(),
  description: Type.String(),
  period: Type.String({ description: 'Lower case: day, week, semimonth, month, year' }),
  frequency: Type.Integer(),
  cycles: Nullable(Type.Integer()),
  startDate: Timestamp,
  initialCents: Type.Integer(),
  timeZone: Type.String(),
  status: Type.Enum(['submitted', 'active', 'expired', 'cancelled'] as const),
  executions: Type.Integer(),
  lastExecutionAt: Nullable(Timestamp),
  nextExecutionAt: Nullable(Timestamp),
  remainingCycles: Nullable(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: Type.Integer(),
});

export const BillListQuery = {
  status: Type.Optional(Type.String({ maxLength: 20 })),
};
