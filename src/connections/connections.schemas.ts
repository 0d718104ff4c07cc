import { type Static, Type } from 'typebox';
import { DisplayName, JsonObject, Nullable, Timestamp } from '../http/schemas.ts';
import { PermissionList } from '../people/people.schemas.ts';

const ConnectionType = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,62}$',
  description: 'The kind of connection, as the product names them; `api` (the default) for the API connector',
});

/** Body of `POST /v1/tenants/{tenant}/connections`. */
export const ConnectionCreate = Type.Object(
  {
    name: DisplayName,
    type: Type.Optional(ConnectionType),
    active: Type.Optional(Type.Boolean({ description: 'Default true; an inactive connection fails verification' })),
    configuration: Type.Optional(JsonObject),
    permissions: Type.Optional(PermissionList),
  },
  { additionalProperties: false },
);
export type ConnectionCreateBody = Static<typeof ConnectionCreate>;

/** Body of `PATCH /v1/tenants/{tenant}/connections/{connection}`: fields given replace the current ones. */
export const ConnectionUpdate = Type.Object(
  {
    name: Type.Optional(DisplayName),
    active: Type.Optional(Type.Boolean()),
    configuration: Type.Optional(JsonObject),
    permissions: Type.Optional(PermissionList),
  },
  { additionalProperties: false },
);
export type ConnectionUpdateBody = Static<typeof ConnectionUpdate>;

/** A connection as listed: never its secret. */
export const Connection = Type.Object({
  id: Type.String({ description: '32 hex characters; public, sent with the secret' }),
  name: Type.String(),
  type: Type.String(),
  active: Type.Boolean(),
  configuration: JsonObject,
  permissions: Type.Array(Type.String()),
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ConnectionView = Static<typeof Connection>;

/** A connection just created, with its secret: the only response that shows it. */
export const ConnectionWithSecret = Type.Object({
  ...Connection.properties,
  secret: Type.String({ description: 'Shown only in this response; Landlord keeps only its hash' }),
});
export type ConnectionWithSecretView = Static<typeof ConnectionWithSecret>;

/** Body of `POST /v1/connections/verify`. */
export const VerifyRequest = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'The connection id the program presented' }),
    secret: Type.String({ minLength: 1, maxLength: 200, description: 'The secret it presented' }),
  },
  { additionalProperties: false },
);

/** The answer of `POST /v1/connections/verify`. */
export const VerifyResult = Type.Object({
  valid: Type.Boolean(),
  reason: Nullable(
    Type.Union([Type.Literal('unknown'), Type.Literal('inactive'), Type.Literal('tenant_not_live')], {
      description:
        '`unknown`: no such id, or a wrong secret (the same answer); `inactive`: the connection is deactivated; `tenant_not_live`: the tenant is not created or active',
    }),
  ),
  tenant: Nullable(Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() })),
  connection: Nullable(Type.Object({ id: Type.String(), name: Type.String(), type: Type.String(), configuration: JsonObject })),
  permissions: Type.Array(Type.String()),
});
