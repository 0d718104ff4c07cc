import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';

const Cents = (description: string) => Type.Integer({ minimum: 0, maximum: 1e15, description });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217; the group’s or subscription’s currency when omitted' });

/** Body of `POST /v1/tenants/{tenant}/bills`. */
export const BillCreate = Type.Object(
  {
    priceCents: Cents('The amount in minor units (cents); never negative'),
    currency: Type.Optional(Currency),
    description: Type.String({ minLength: 1, maxLength: 1000 }),
    units: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }))),
    periodStartedAt: Type.Optional(Type.String({ format: 'date-time', description: 'With periodEndedAt, or neither' })),
    periodEndedAt: Type.Optional(Type.String({ format: 'date-time', description: 'With periodStartedAt, or neither' })),
  },
  { additionalProperties: false },
);
export type BillCreateBody = Static<typeof BillCreate>;

/** A bill: a one-off charge of a tenant. */
export const Bill = Type.Object({
  id: Type.String(),
  uid: Type.String({ description: '`bill-<n>`, its Maestrano id' }),
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  priceCents: Type.Integer(),
  currency: Type.String(),
  units: Nullable(Type.Number()),
  description: Type.String(),
  periodStartedAt: Nullable(Timestamp),
  periodEndedAt: Nullable(Timestamp),
  status: Type.Union([Type.Literal('submitted'), Type.Literal('invoiced'), Type.Literal('cancelled')]),
  recurringBill: Nullable(Type.String({ description: 'The recurring bill (`rbill-<n>`) that made it' })),
  execution: Nullable(Type.Integer({ description: 'Which execution of the recurring bill (0 = at its start); null: its initial charge' })),
  invoiceId: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type BillView = Static<typeof Bill>;

/** Body of `POST /v1/tenants/{tenant}/recurring-bills`. */
export const RecurringBillCreate = Type.Object(
  {
    priceCents: Cents('The amount of each execution, in minor units'),
    currency: Type.Optional(Currency),
    description: Type.String({ minLength: 1, maxLength: 1000 }),
    period: Type.String({ minLength: 1, maxLength: 20, description: 'Day, Week, SemiMonth, Month or Year (any case)' }),
    frequency: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, description: 'Periods between executions (1 when omitted)' })),
    cycles: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 100_000, description: 'How many executions; null: until cancelled' })),
    ),
    startDate: Type.Optional(Type.String({ format: 'date-time', description: 'The first execution; now when omitted' })),
    initialCents: Type.Optional(Cents('Charged once at creation (a bill), not a cycle')),
  },
  { additionalProperties: false },
);
export type RecurringBillCreateBody = Static<typeof RecurringBillCreate>;

/** A recurring bill: a periodic charge of a tenant. */
export const RecurringBill = Type.Object({
  id: Type.String(),
  uid: Type.String({ description: '`rbill-<n>`, its Maestrano id' }),
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  priceCents: Type.Integer(),
  currency: Type.String(),
  description: Type.String(),
  period: Type.String(),
  frequency: Type.Integer(),
  cycles: Nullable(Type.Integer()),
  initialCents: Type.Integer(),
  startDate: Timestamp,
  status: Type.Union([Type.Literal('submitted'), Type.Literal('active'), Type.Literal('expired'), Type.Literal('cancelled')]),
  lastExecutionAt: Nullable(Timestamp),
  nextExecutionAt: Nullable(Timestamp),
  remainingCycles: Nullable(Type.Integer()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type RecurringBillView = Static<typeof RecurringBill>;
