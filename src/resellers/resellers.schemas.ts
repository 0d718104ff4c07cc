import { type Static, Type } from 'typebox';
import { ConnectionCreate } from '../connections/connections.schemas.ts';
import { DisplayName, JsonObject, Nullable, Timestamp } from '../http/schemas.ts';
import { Email, Language, Login, PermissionList } from '../people/people.schemas.ts';

// ——— the operators' side: /v1/resellers ———

/** Body of `POST /v1/resellers`. */
export const ResellerCreate = Type.Object(
  {
    code: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      description: 'The reseller code, sent in `X-Reseller` (lower case, 1–63 characters)',
    }),
    name: DisplayName,
    product: Type.String({ minLength: 1, maxLength: 200, description: 'The product its tenants belong to (id or name)' }),
    prefix: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9]{0,20}$',
        description: 'Start of its tenants’ code names (a–z, 0–9); default: the code without - and _',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ResellerCreateBody = Static<typeof ResellerCreate>;

/** A reseller as listed: never its password. */
export const Reseller = Type.Object({
  id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  product: Type.Object({ id: Type.String(), name: Type.String() }),
  prefix: Type.String(),
  username: Type.String(),
  createdAt: Timestamp,
  revokedAt: Nullable(Timestamp),
});
export type ResellerView = Static<typeof Reseller>;

/** A reseller just created, with its password: the only response that shows it. */
export const ResellerWithPassword = Type.Object({
  ...Reseller.properties,
  password: Type.String({ description: 'Shown only in this response; Landlord keeps only its hash' }),
});

// ——— the reseller's side: /reseller (Sharespine's shapes) ———

const Options = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true });
const Languages = Type.Array(Language, { maxItems: 50, uniqueItems: true });

/** Body of `POST /reseller/tenant`. */
export const ResellerTenantCreate = Type.Object(
  {
    customerReference: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Your reference for the customer; the code name is made from it',
    }),
    active: Type.Optional(Type.Boolean({ description: 'Default true. False: the tenant is recorded, not set up, until made active' })),
    fullName: DisplayName,
    email: Type.Optional(Email),
    defaultLanguage: Type.Optional(Language),
    languages: Type.Optional(Languages),
    options: Type.Optional(Options),
  },
  { additionalProperties: false },
);
export type ResellerTenantCreateBody = Static<typeof ResellerTenantCreate>;

/** Body of `PUT`/`PATCH /reseller/tenant/{codeName}`: fields given replace the current ones. */
export const ResellerTenantUpdate = Type.Object(
  {
    active: Type.Optional(Type.Boolean({ description: 'False deactivates the tenant; true activates it again' })),
    fullName: Type.Optional(DisplayName),
    email: Type.Optional(Nullable(Email)),
    defaultLanguage: Type.Optional(Nullable(Language)),
    languages: Type.Optional(Languages),
    options: Type.Optional(Options),
  },
  { additionalProperties: false },
);
export type ResellerTenantUpdateBody = Static<typeof ResellerTenantUpdate>;

/** A tenant as the reseller sees it. */
export const ResellerTenant = Type.Object({
  codeName: Type.String(),
  customerReference: Type.String(),
  active: Type.Boolean({ description: 'On, or on its way (being created or activated)' }),
  status: Type.String({ description: 'The lifecycle status' }),
  fullName: Type.String(),
  email: Nullable(Type.String()),
  defaultLanguage: Nullable(Type.String()),
  languages: Type.Array(Type.String()),
  options: Type.Array(Type.String()),
  createdAt: Timestamp,
});
export type ResellerTenantView = Static<typeof ResellerTenant>;

/** Body of `POST /reseller/tenant/{codeName}/user`. */
export const ResellerUserCreate = Type.Object(
  {
    login: Login,
    fullName: DisplayName,
    email: Email,
    permissions: Type.Optional(PermissionList),
    defaultLanguage: Type.Optional(Language),
  },
  { additionalProperties: false },
);
export type ResellerUserCreateBody = Static<typeof ResellerUserCreate>;

/** A tenant user as the reseller sees it. */
export const ResellerUser = Type.Object({
  login: Type.String(),
  fullName: Nullable(Type.String()),
  email: Type.String(),
  permissions: Type.Array(Type.String()),
  defaultLanguage: Nullable(Type.String()),
  status: Type.String(),
});

/** Body of `POST /reseller/tenant/{codeName}/connection`. */
export const ResellerConnectionCreate = ConnectionCreate;

/** A connection as the reseller sees it (`secret` only in the answer that created it). */
export const ResellerConnection = Type.Object({
  id: Type.String({ description: '32 hex characters' }),
  type: Type.String(),
  name: Type.String(),
  active: Type.Boolean(),
  configuration: JsonObject,
  permissions: Type.Array(Type.String()),
  secret: Type.Optional(Type.String()),
});

/** The shape of every reseller API error. */
export const ResellerError = Type.Object({ message: Type.String() });

/** Error answers of the reseller API, all `{ "message": … }`. */
export const failures = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ResellerError]));

/** The `{codeName}` path parameter. */
export const CodeNameParams = Type.Object({ codeName: Type.String({ minLength: 1, maxLength: 63 }) });
