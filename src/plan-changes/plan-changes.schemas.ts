import { Type } from 'typebox';
import { Nullable, RefParam, Timestamp } from '../http/schemas.ts';
import { CHANGE_KINDS, CHANGE_STATUSES, CHANGE_TIMINGS } from './change-rules.ts';

/** OpenAPI tags of the plan change routes. */
export const planChangeTags = ['Plan changes'];

export const TenantParams = RefParam('tenant', 'Tenant id or name');
export const ChangeParams = Type.Object(
  {
    tenant: Type.String({ minLength: 1, maxLength: 200, description: 'Tenant id or name' }),
    change: Type.String({ minLength: 1, maxLength: 200, description: 'Plan change id' }),
  },
  { additionalProperties: false },
);

export const ChangeRequest = Type.Object(
  {
    price: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "The published plan price of the tenant's product to change to, by id or name",
      }),
    ),
    reset: Type.Optional(Type.Boolean({ description: "true: restart the subscription's usage windows (no price)" })),
    timing: Type.Optional(
      Type.Enum(CHANGE_TIMINGS, {
        description:
          'By default an upgrade takes effect `now` (once the backend confirms it), a downgrade or a change of cycle at `period_end`. A client may not make a downgrade `now`.',
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

const Kind = Type.Enum(CHANGE_KINDS, { description: '`upgrade`: the new price costs more per day' });
const Timing = Type.Enum(CHANGE_TIMINGS);

const PreviewLine = Type.Object({
  kind: Type.Union([Type.Literal('credit'), Type.Literal('charge')]),
  amount: Type.Integer({ description: 'Minor units; the credit is negative' }),
  days: Type.Integer({ description: 'Calendar days of the period it covers, in the billing zone' }),
  periodDays: Type.Integer(),
  start: Timestamp,
  end: Timestamp,
});

export const ChangePreview = Type.Object({
  kind: Kind,
  timing: Timing,
  effectiveAt: Timestamp,
  fromPriceId: Type.String(),
  toPriceId: Type.String(),
  currency: Type.String(),
  lines: Type.Array(PreviewLine),
  total: Type.Integer(),
});

export const PlanChange = Type.Object({
  id: Type.String({ description: "Also the idempotency key of the call to the product's backend" }),
  subscriptionId: Type.String(),
  productId: Type.String(),
  tenantId: Type.String(),
  kind: Kind,
  timing: Timing,
  fromPriceId: Type.String(),
  toPriceId: Type.String(),
  status: Type.Enum(CHANGE_STATUSES, {
    description: '`scheduled` (until the period end) → `calling` → `awaiting_report` (callback mode) → `applied` | `failed`',
  }),
  effectiveAt: Timestamp,
  periodNumber: Nullable(Type.Integer()),
  reportDueAt: Nullable(Timestamp),
  proration: Nullable(
    Type.Array(Type.Object({ kind: Type.String(), amount: Type.Integer(), days: Type.Integer(), periodDays: Type.Integer() })),
  ),
  invoiceId: Nullable(Type.String()),
  failureReason: Nullable(Type.Object({ reason: Type.Optional(Type.String()) })),
  reason: Nullable(Type.String()),
  requestedBy: Type.Object({ type: Type.String(), id: Type.String() }),
  resolvedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  version: Type.Integer(),
});

export const ChangeReport = Type.Object(
  {
    outcome: Type.Union([Type.Literal('applied'), Type.Literal('failed')]),
    reason: Type.Optional(Type.String({ maxLength: 1000, description: 'Why it failed' })),
  },
  { additionalProperties: false },
);
