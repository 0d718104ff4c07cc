import { type TSchema, Type } from 'typebox';
import type { AuditEntry } from '../audit/audit.repo.ts';
import { BilledTo } from '../commerce/billed-to.schema.ts';
import { JsonObject, Nullable } from '../http/schemas.ts';
import type { NewEvent } from './events.repo.ts';

const Snapshot = (what: string) =>
  Type.Record(Type.String(), Type.Unknown(), { description: `The ${what} as it now is, as the API shows it` });
const Before = (what: string) =>
  Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: `The ${what} before the change` }));

/** Payload of an event that a change to an object of `objectType` produces. */
const changed = (objectType: string, verb: string) => ({
  [objectType]: Snapshot(objectType),
  ...(verb === 'updated' ? { before: Before(objectType) } : {}),
});

const CATALOGUE_VERBS: Record<string, string[]> = {
  product: ['created', 'updated', 'deleted'],
  plan: ['created', 'updated', 'published', 'unpublished', 'deleted'],
  price: ['created', 'updated', 'published', 'unpublished', 'deleted'],
  feature: ['created', 'updated', 'deleted'],
  plan_feature: ['created', 'updated', 'deleted'],
  specification: ['created', 'updated', 'published', 'unpublished', 'deleted'],
  client: ['created', 'revoked', 'secret_rotated'],
};

// People and channels: users, their memberships in tenants, API connections, resellers.
const PEOPLE_VERBS: Record<string, string[]> = {
  user: ['created'],
  membership: ['created', 'invited', 'accepted', 'updated', 'deleted'],
  connection: ['created', 'updated', 'deleted'],
  reseller: ['created', 'revoked'],
};

// Identity: sign-ins and sessions, passwords, OIDC clients, SAML service providers and certificates.
const IDENTITY_VERBS: Record<string, string[]> = {
  sign_in: ['failed'],
  session: ['created', 'revoked'],
  password: ['changed', 'reset_requested'],
  oidc_client: ['created', 'revoked'],
  saml_provider: ['created', 'deleted'],
  saml_certificate: ['rotated'],
};

// Commerce (ADR 0008): subscriptions and invoices. Each carries the object as it was after the step it tells about.
const SUBSCRIPTION_VERBS = [
  'created',
  'updated',
  'activated',
  'trial_will_end',
  'trial_ended',
  'renewed',
  'renewal_failed',
  'plan_change_requested',
  'plan_changed',
  'plan_change_failed',
  'cancel_scheduled',
  'canceled',
  'expired',
  'past_due',
  'recovered',
];
const INVOICE_VERBS = ['created', 'finalized', 'paid', 'voided'];
// Every invoice event names the invoice and whom it bills (the billing profile snapshotted at finalization, #14).
const InvoiceSnapshot = Type.Object(
  {
    id: Type.String(),
    number: Nullable(Type.Integer({ description: 'Per product, without gaps; null for a draft' })),
    status: Type.String(),
    total: Type.Integer(),
    currency: Type.String(),
    billedTo: BilledTo,
  },
  { additionalProperties: true, description: 'The invoice as it now is, as the API shows it' },
);
const COMMERCE_SCHEMAS: Record<string, TSchema> = Object.fromEntries([
  ...SUBSCRIPTION_VERBS.map((verb) => [
    `subscription.${verb}`,
    Type.Object({
      subscription: Snapshot('subscription'),
      before: Before('subscription'),
      period: Type.Optional(Snapshot('period it opened')),
      trialEndAt: Type.Optional(Type.String({ format: 'date-time' })),
      error: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
      // calls and billing: the plan change a plan_change_* event is about
      change: Type.Optional(Snapshot('plan change')),
    }),
  ]),
  ...INVOICE_VERBS.map((verb) => [
    `invoice.${verb}`,
    Type.Object({ invoice: InvoiceSnapshot, subscription: Type.Optional(Snapshot('subscription')) }),
  ]),
]);
// Usage: a threshold of a limit crossed (once per window), and a limit left again.
const LimitFacts = {
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  feature: Type.String(),
  threshold: Type.Integer({ description: 'Percent of the limit' }),
  limit: Type.Integer(),
  used: Type.Integer(),
  windowStart: Type.String({ format: 'date-time' }),
  windowEnd: Nullable(Type.String({ format: 'date-time' })),
};
const USAGE_EVENT_SCHEMAS: Record<string, TSchema> = {
  'usage.threshold_reached': Type.Object(LimitFacts),
  'usage.limit_reached': Type.Object(LimitFacts),
  'usage.limit_cleared': Type.Object({
    ...LimitFacts,
    reason: Type.String({ description: '`new_window`, `plan_changed`, `limit_raised` or `correction`' }),
  }),
};

// Calls and billing (ADR 0009): plan changes ride on subscription.plan_change_*; bills and recurring bills.
const BILLING_SCHEMAS: Record<string, TSchema> = Object.fromEntries([
  ...['created', 'invoiced', 'cancelled'].map((verb) => [
    `bill.${verb}`,
    Type.Object({ bill: Snapshot('bill'), invoice: Type.Optional(Snapshot('invoice')) }),
  ]),
  ...['created', 'executed', 'expired', 'cancelled'].map((verb) => [
    `recurring_bill.${verb}`,
    Type.Object({ recurringBill: Snapshot('recurring bill'), bill: Type.Optional(Snapshot('bill it made')) }),
  ]),
]);

/**
 * Every event type and the schema of its `data`, in one place: the OpenAPI document
 * publishes them, and the feed filters check types against them.
 */
export const EVENT_SCHEMAS: Record<string, TSchema> = {
  'tenant.created': Type.Object({ tenant: Snapshot('tenant') }),
  'tenant.updated': Type.Object({ tenant: Snapshot('tenant'), before: Before('tenant') }),
  'tenant.metadata_changed': Type.Object({ tenant: Snapshot('tenant'), metadata: JsonObject, before: Type.Optional(JsonObject) }),
  'tenant.status_changed': Type.Object({
    tenant: Snapshot('tenant'),
    from: Type.String(),
    to: Type.String(),
    action: Type.String(),
    actor: Type.Object({ type: Type.String(), id: Type.String() }),
    reason: Nullable(Type.Unknown()),
  }),
  'tenant.deleted': Type.Object({ tenant: Snapshot('tenant') }),
  'tenant.availability.unhealthy': Type.Object({ tenant: Snapshot('tenant'), health: Snapshot('health record') }),
  'tenant.availability.healthy': Type.Object({ tenant: Snapshot('tenant'), health: Snapshot('health record') }),
  'webhook_endpoint.disabled': Type.Object({ endpoint: Snapshot('webhook endpoint'), reason: Type.String() }),
  ...COMMERCE_SCHEMAS,
  ...BILLING_SCHEMAS,
  // usage
  ...USAGE_EVENT_SCHEMAS,
  // Sent on request to one endpoint only, whatever types it subscribed to (the console's "send a test event").
  'webhook_endpoint.test': Type.Object({ endpointId: Type.String(), message: Type.String() }),
  ...Object.fromEntries(
    Object.entries({ ...CATALOGUE_VERBS, ...PEOPLE_VERBS, ...IDENTITY_VERBS }).flatMap(([objectType, verbs]) =>
      verbs.map((verb) => [`${objectType}.${verb}`, Type.Object(changed(objectType, verb))]),
    ),
  ),
};

/** Every event type Landlord emits. */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS).sort();

// Audit verbs (present tense, on the object) → event verbs (what happened).
const VERB: Record<string, string> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  publish: 'published',
  unpublish: 'unpublished',
  revoke: 'revoked',
  rotate_secret: 'secret_rotated',
  metadata: 'metadata_changed',
  invite: 'invited',
  accept: 'accepted',
  fail: 'failed',
  change: 'changed',
  request_reset: 'reset_requested',
  rotate: 'rotated',
};

/**
 * The event an audited change tells about, if it is one worth telling. Lifecycle
 * actions are not mapped here: every transition, including Landlord's own, emits
 * `tenant.status_changed` where it is applied.
 */
export function eventFromAudit(entry: AuditEntry): NewEvent | undefined {
  const [objectType, verb] = entry.action.split('.') as [string, string | undefined];
  // A tenant's deletion is a lifecycle step: `tenant.deleted` comes when it is done, not when asked for.
  if (objectType === 'tenant' && !['create', 'update', 'metadata'].includes(verb ?? '')) return undefined;
  const type = verb && VERB[verb] ? `${objectType}.${VERB[verb]}` : undefined;
  if (!type || !(type in EVENT_SCHEMAS)) return undefined;
  const snapshot = withoutActions(entry.after ?? entry.before);
  const data: Record<string, unknown> = { [objectType]: snapshot };
  if (type === 'tenant.metadata_changed') {
    data.metadata = (snapshot as { metadata?: unknown } | undefined)?.metadata ?? {};
    data.before = (entry.before as { metadata?: unknown } | undefined)?.metadata;
  } else if (verb === 'update' && entry.before !== undefined) {
    data.before = withoutActions(entry.before);
  }
  return { type, productId: entry.productId, tenantId: objectType === 'tenant' ? entry.objectId : (entry.tenantId ?? null), data };
}

/** A tenant view without `actions`, which depend on who is looking. */
export function withoutActions(view: unknown): unknown {
  if (typeof view !== 'object' || view === null || !('actions' in view)) return view;
  const { actions: _actions, ...rest } = view as Record<string, unknown>;
  return rest;
}

/** The OpenAPI 3.1 `webhooks` section: one entry per event type, with its signed delivery. */
export function openapiWebhooks(): Record<string, unknown> {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: type,
          description:
            'Delivered to subscribed webhook endpoints, signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`).',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'type', 'occurredAt', 'data'],
                  properties: {
                    id: { type: 'string' },
                    type: { const: type },
                    occurredAt: { type: 'string', format: 'date-time' },
                    productId: { type: ['string', 'null'] },
                    tenantId: { type: ['string', 'null'] },
                    tenantSequence: { type: ['integer', 'null'] },
                    data: EVENT_SCHEMAS[type],
                  },
                },
              },
            },
          },
          responses: { '2XX': { description: 'Received; any other answer is retried' } },
        },
      },
    ]),
  );
}
