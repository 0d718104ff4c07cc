import { type Static, Type } from 'typebox';
import { DisplayName, Nullable, Timestamp } from '../http/schemas.ts';

const ExpiresAt = (description: string) => Type.String({ format: 'date-time', description });

/** Body of `POST /v1/products/{product}/clients`. */
export const ClientCreate = Type.Object(
  {
    name: DisplayName,
    expiresAt: Type.Optional(
      Nullable(ExpiresAt('When the secret stops working (ISO 8601 with a time zone); no token outlives it. Omitted or null: never')),
    ),
  },
  { additionalProperties: false },
);
export type ClientCreateBody = Static<typeof ClientCreate>;

/** Body of `POST /v1/products/{product}/clients/{clientId}/rotate-secret` (it may be empty). */
export const ClientRotate = Type.Object(
  {
    expiresAt: Type.Optional(Nullable(ExpiresAt('When the new secret stops working; omitted or null, it does not expire'))),
  },
  { additionalProperties: false },
);
export type ClientRotateBody = Static<typeof ClientRotate>;

/** A client as listed: never its secret. */
export const Client = Type.Object({
  id: Type.String({ description: 'The row id' }),
  clientId: Type.String({ description: 'The public client id sent to the token endpoint' }),
  productId: Type.String(),
  name: Type.String(),
  expiresAt: Nullable(Timestamp),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
});
export type ClientView = Static<typeof Client>;

/** A client with its new secret: the only response that shows it. */
export const ClientWithSecret = Type.Object({
  ...Client.properties,
  clientSecret: Type.String({ description: 'Shown only in this response; Landlord keeps only its hash' }),
});
export type ClientWithSecretView = Static<typeof ClientWithSecret>;
