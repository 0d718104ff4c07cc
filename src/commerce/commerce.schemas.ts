import { type Static, Type } from 'typebox';
import { Nullable, RefParam, Timestamp } from '../http/schemas.ts';
import { BilledTo } from './billed-to.schema.ts';
import { SUBSCRIPTION_STATUSES } from './subscription-state.ts';
import { SUBSCRIPTION_ACTIONS } from './subscriptions.service.ts';

/** OpenAPI tags of the commerce routes. */
export const subscriptionTags = ['Subscriptions'];
export const invoiceTags = ['Invoices'];

export const TenantParams = RefParam('tenant', 'Tenant id or name');
export const InvoiceParams = RefParam('invoice', 'Invoice id');
export const ProductParams = RefParam('product', 'Product id or name');

/** Invoice statuses: `draft → open → paid | void`. */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void'] as const;

const Amount = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'In minor units (cents)' });

export const SubscriptionCreate = Type.Object(
  {
    price: Type.String({ minLength: 1, maxLength: 200, description: 'A published plan price of the tenant’s product, by id or name' }),
    startAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the first period starts; now when omitted' })),
    trialDays: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 730, description: 'Trial length in days; the price’s trialDays when omitted' }),
    ),
    autoRenew: Type.Optional(Type.Boolean({ description: 'Renew at each period end; true when omitted' })),
  },
  { additionalProperties: false },
);
export type SubscriptionCreateBody = Static<typeof SubscriptionCreate>;

export const SubscriptionUpdate = Type.Object({ autoRenew: Type.Boolean() }, { additionalProperties: false });
export const SubscriptionCancel = Type.Object(
  { when: Type.Optional(Type.Union([Type.Literal('period_end'), Type.Literal('now')], { description: '`period_end` when omitted' })) },
  { additionalProperties: false },
);
export const TrialChange = Type.Object(
  { endsAt: Type.String({ format: 'date-time', description: 'The trial’s new end (in the future)' }) },
  { additionalProperties: false },
);

const PeriodRef = Type.Object({ number: Type.Integer(), start: Timestamp, end: Nullable(Timestamp) });

export const Subscription = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  tenantId: Type.String(),
  priceId: Type.String(),
  priceName: Nullable(Type.String()),
  status: Type.Enum(SUBSCRIPTION_STATUSES),
  cycle: Nullable(Type.Object({ unit: Type.String(), count: Type.Integer() })),
  amount: Type.Integer(),
  currency: Type.String(),
  timeZone: Type.String(),
  anchorAt: Timestamp,
  startAt: Timestamp,
  trialEndAt: Nullable(Timestamp),
  autoRenew: Type.Boolean(),
  cancelAt: Nullable(Timestamp),
  endedAt: Nullable(Timestamp),
  currentPeriod: Nullable(PeriodRef),
  nextActionAt: Nullable(Timestamp),
  version: Type.Integer(),
  createdAt: Timestamp,
  actions: Type.Array(Type.Enum(SUBSCRIPTION_ACTIONS), { description: 'What the caller may do next' }),
});

export const Period = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  start: Timestamp,
  end: Nullable(Timestamp),
  priceId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  trial: Type.Boolean(),
});

export const InvoiceLine = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  source: Type.String(),
  description: Type.String(),
  quantity: Type.Number(),
  amount: Type.Integer(),
  currency: Type.String(),
  periodStart: Nullable(Timestamp),
  periodEnd: Nullable(Timestamp),
});

export const Payment = Type.Object({
  id: Type.String(),
  invoiceId: Type.String(),
  provider: Type.String(),
  reference: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  receivedAt: Timestamp,
});

const InvoiceFields = {
  id: Type.String(),
  productId: Type.String(),
  tenantId: Type.String(),
  subscriptionId: Nullable(Type.String()),
  periodId: Nullable(Type.String()),
  status: Type.Enum(INVOICE_STATUSES),
  number: Nullable(Type.Integer({ description: 'Per product, without gaps; set when finalized' })),
  currency: Type.String(),
  total: Type.Integer(),
  paid: Type.Integer(),
  due: Type.Integer(),
  finalizedAt: Nullable(Timestamp),
  paidAt: Nullable(Timestamp),
  voidedAt: Nullable(Timestamp),
  billedTo: BilledTo,
  version: Type.Integer(),
  createdAt: Timestamp,
};
export const InvoiceSummary = Type.Object(InvoiceFields);
export const Invoice = Type.Object({ ...InvoiceFields, lines: Type.Array(InvoiceLine), payments: Type.Array(Payment) });

export const InvoiceListQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(INVOICE_STATUSES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const PaymentCreate = Type.Object(
  {
    provider: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,62}$', description: 'Who took the payment (`manual`, `stripe`…)' }),
    reference: Type.String({ minLength: 1, maxLength: 200, description: 'The provider’s id of the payment; unique per provider' }),
    amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'In minor units; partial payments add up' }),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export const PaymentResult = Type.Object({ invoice: InvoiceSummary, payment: Payment, replayed: Type.Boolean() });

export const BillingSettingsView = Type.Object({
  productId: Type.String(),
  timeZone: Type.String({ description: 'IANA zone the product’s billing calendar runs in' }),
  trialWillEndDays: Type.Integer(),
  sandbox: Type.Boolean(),
  clock: Timestamp,
  version: Type.Integer(),
});
export const BillingSettingsUpdate = Type.Object(
  {
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    trialWillEndDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
    sandbox: Type.Optional(Type.Boolean({ description: 'A sandbox product gets a commerce clock operators can move forward' })),
  },
  { additionalProperties: false },
);
/** How long a clock's advance waits for the backend's confirmations unless the caller says otherwise. */
export const DEFAULT_WAIT_SECONDS = 20;
/** The longest wait a caller may ask for (an HTTP request held open longer helps nobody). */
export const MAX_WAIT_SECONDS = 60;
export const ClockAdvance = Type.Object(
  {
    to: Type.String({ format: 'date-time' }),
    waitSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_SECONDS,
        description: `How long to wait for the backend to confirm the plan changes due by \`to\` (default ${DEFAULT_WAIT_SECONDS}); 0 answers at once`,
      }),
    ),
  },
  { additionalProperties: false },
);
const AwaitedChangeView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  tenant: Type.String({ description: "The tenant's name" }),
  kind: Type.String({ description: '`upgrade`, `downgrade` or `reset`' }),
  timing: Type.String({ description: '`now` or `period_end`' }),
  status: Type.String({ description: '`scheduled`, `calling` or `awaiting_report`' }),
  effectiveAt: Timestamp,
  reportDueAt: Nullable(Timestamp),
});
export const ClockStatusView = Type.Object({
  productId: Type.String(),
  now: Timestamp,
  status: Type.Union([Type.Literal('ready'), Type.Literal('advancing')], {
    description: '`advancing` while a plan change due by `now` waits for the backend to confirm it; `ready` once none does',
  }),
  waitingFor: Type.Array(AwaitedChangeView, { description: 'The plan changes due by `now` that the backend has not confirmed yet' }),
});
export const ClockView = Type.Object({
  ...ClockStatusView.properties,
  renewed: Type.Integer({ description: 'Subscriptions brought up to the new time' }),
});

export { Amount };

/** `GET /v1/subscriptions`: every filter optional, all of them together narrow the list. */
export const SubscriptionListQuery = Type.Object(
  {
    product: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name' })),
    status: Type.Optional(Type.Enum(SUBSCRIPTION_STATUSES)),
    renewingBefore: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Live, auto-renewing, no cancellation scheduled, current period ending before this instant',
      }),
    ),
    pastDue: Type.Optional(Type.Boolean({ description: 'Only `past_due` subscriptions (`true`) or none of them (`false`)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** `GET /v1/invoices`: every filter optional, all of them together narrow the list. */
export const InvoiceSearchQuery = Type.Object(
  {
    product: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Product id or name' })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Tenant id or name' })),
    status: Type.Optional(Type.Enum(INVOICE_STATUSES)),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    overdue: Type.Optional(
      Type.Boolean({ description: 'Open, unpaid, finalized longer ago than the collection grace (`true`), or not (`false`)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
