import { type Static, Type } from 'typebox';
import { DisplayName, Nullable, Timestamp } from '../http/schemas.ts';

/** The events a product's backend is called for. */
export const WEBHOOK_EVENTS = [
  'creation',
  'activation',
  'deactivation',
  'deletion',
  'unavailable',
  'upgrade',
  'downgrade',
  'reset',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const WebhookUrl = Type.String({
  maxLength: 2000,
  description: "http(s) URL; may contain `{name}` and `{tenantId}`, replaced by the tenant's name and id",
});

const webhookProps = (value: typeof WebhookUrl | ReturnType<typeof Nullable<typeof WebhookUrl>>) =>
  Object.fromEntries(WEBHOOK_EVENTS.map((event) => [event, Type.Optional(value)]));

export const WebhooksInput = Type.Object(webhookProps(Nullable(WebhookUrl)), { additionalProperties: false });
export const Webhooks = Type.Object(webhookProps(WebhookUrl));

export const HealthCheckInput = Type.Object(
  {
    url: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'e.g. `http://host/api/integration/{name}/health-status`' }))),
    intervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    recheckSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    unavailableRecheckSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export const HealthCheck = Type.Object({
  url: Nullable(Type.String()),
  intervalSeconds: Type.Integer(),
  timeoutSeconds: Type.Integer(),
  failureThreshold: Type.Integer(),
  recheckSeconds: Type.Integer(),
  unavailableRecheckSeconds: Type.Integer(),
});
export type HealthCheckSettings = Static<typeof HealthCheck>;

export const ProvisioningInput = Type.Object(
  {
    mode: Type.Optional(
      Type.Union([Type.Literal('callback'), Type.Literal('response')], {
        description: '`callback`: a 2xx means "started", the backend reports the outcome; `response`: a 2xx means "done"',
      }),
    ),
    callbackTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 })),
    autoSendCreation: Type.Optional(Type.Boolean()),
    requestTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, description: 'Timeout of one call to the backend' })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'Attempts per call before it counts as refused' })),
  },
  { additionalProperties: false },
);
export const Provisioning = Type.Object({
  mode: Type.Union([Type.Literal('callback'), Type.Literal('response')]),
  callbackTimeoutSeconds: Type.Integer(),
  autoSendCreation: Type.Boolean(),
  requestTimeoutSeconds: Type.Integer(),
  maxAttempts: Type.Integer(),
});
export type ProvisioningSettings = Static<typeof Provisioning>;

export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = {
  url: null,
  intervalSeconds: 60,
  timeoutSeconds: 5,
  failureThreshold: 3,
  recheckSeconds: 10,
  unavailableRecheckSeconds: 60,
};

export const DEFAULT_PROVISIONING: ProvisioningSettings = {
  mode: 'callback',
  callbackTimeoutSeconds: 3600,
  autoSendCreation: true,
  requestTimeoutSeconds: 10,
  maxAttempts: 8,
};

const ProductName = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,62}$',
  description: 'System name: unique, lower case, starts with a letter (a–z, 0–9, - and _; at most 63)',
});

export const ProductCreate = Type.Object(
  {
    name: ProductName,
    displayName: DisplayName,
    apiKey: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 500,
        description: 'Sent to the backend in the `api-key` header; generated when omitted. Shown in full only in this response.',
      }),
    ),
    webhooks: Type.Optional(WebhooksInput),
    healthCheck: Type.Optional(HealthCheckInput),
    provisioning: Type.Optional(ProvisioningInput),
    signInUrl: Type.Optional(
      Nullable(Type.String({ maxLength: 2000, format: 'uri', description: 'Where one-time login links send the browser' })),
    ),
  },
  { additionalProperties: false },
);
export type ProductCreateBody = Static<typeof ProductCreate>;

export const ProductUpdate = Type.Object(
  {
    displayName: Type.Optional(DisplayName),
    apiKey: Type.Optional(Type.String({ minLength: 16, maxLength: 500 })),
    webhooks: Type.Optional(WebhooksInput),
    healthCheck: Type.Optional(HealthCheckInput),
    provisioning: Type.Optional(ProvisioningInput),
    signInUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, format: 'uri' }))),
  },
  { additionalProperties: false },
);
export type ProductUpdateBody = Static<typeof ProductUpdate>;

export const Product = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  apiKey: Nullable(Type.String({ description: 'Masked (`••••abcd`) except in the response that created or changed it' })),
  webhooks: Webhooks,
  healthCheck: HealthCheck,
  provisioning: Provisioning,
  signInUrl: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ProductView = Static<typeof Product>;

export const ProductWarning = Type.Object({
  code: Type.String(),
  message: Type.String(),
  parameter: Type.String(),
});
