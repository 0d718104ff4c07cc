import { type TSchema, Type } from 'typebox';
import { ErrorItemSchema } from '../http/envelope.ts';
import { JsonObject, Nullable } from '../http/schemas.ts';

const Metadata = Type.Object({ errors: Type.Array(ErrorItemSchema), success: Type.Boolean() });

/** RoSaaS's envelope: `{ data, metadata: { errors, success } }`. */
export const rosaasEnvelope = <T extends TSchema>(data: T) => Type.Object({ data, metadata: Metadata });

/** RoSaaS's envelope without data ("success without response data"). */
export const RosaasDone = Type.Object({ metadata: Metadata });

/** Wraps data in RoSaaS's envelope. */
export const rosaasOk = <T>(data: T) => ({ data, metadata: { errors: [], success: true } });
export const rosaasDone = () => ({ metadata: { errors: [], success: true } });

export const RosaasTenant = Type.Object({
  id: Type.String(),
  systemName: Type.String(),
  displayName: Type.String(),
  status: Type.Integer({ description: 'RecordCreated 1 … Deleted 13, Failure 14' }),
  statusName: Type.String(),
  step: Type.Integer({ description: 'The step in progress or failed: 0 none, 1 creation, 2 activation, 3 deactivation, 4 deletion' }),
  stepName: Nullable(Type.String()),
  isActive: Type.Boolean(),
  metadata: JsonObject,
  plan: Nullable(Type.Object({ planPriceId: Type.String(), planPriceSystemName: Nullable(Type.String()) })),
  specifications: Type.Array(Type.Object({ systemName: Type.String(), displayName: Type.String(), value: Type.Unknown() })),
  createdDate: Type.String({ format: 'date-time' }),
  editedDate: Type.String({ format: 'date-time' }),
  // commerce: on the single-tenant read
  subscription: Type.Optional(
    Nullable(
      Type.Object({
        id: Type.String(),
        status: Type.String(),
        planPriceId: Type.String(),
        planPriceSystemName: Nullable(Type.String()),
        planName: Nullable(Type.String()),
        periodStartDate: Nullable(Type.String({ format: 'date-time' })),
        periodEndDate: Nullable(Type.String({ format: 'date-time' })),
        trialEndDate: Nullable(Type.String({ format: 'date-time' })),
        autoRenew: Type.Boolean(),
        cancelDate: Nullable(Type.String({ format: 'date-time' })),
        lastResetDate: Nullable(Type.String({ format: 'date-time', description: 'When the usage windows were last reset (plan reset)' })),
      }),
    ),
  ),
});

export const RosaasCreateTenant = Type.Object(
  {
    tenantSystemName: Type.String({
      pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$',
      description: 'Unique name (stored lower case)',
    }),
    tenantDisplayName: Type.String({ minLength: 1, maxLength: 200 }),
    planPriceSystemName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    specifications: Type.Optional(
      Type.Array(
        Type.Object({ systemName: Type.String({ minLength: 1, maxLength: 63 }), value: Type.Unknown() }, { additionalProperties: false }),
        { maxItems: 200 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const RosaasAuth = Type.Object(
  { clientId: Type.String({ minLength: 1, maxLength: 200 }), clientSecret: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) });
