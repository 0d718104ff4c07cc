import { type Static, Type } from 'typebox';
import { Description, DisplayName, Nullable, Timestamp } from '../http/schemas.ts';

/** A permission name as products define them: `tenant_management`, `orders:read`… */
export const PermissionName = Type.String({
  pattern: '^[a-z][a-z0-9_.:-]{0,62}$',
  description: 'Permission name (lower case, 1–63 characters: a–z, 0–9, _ . : -)',
});

const RoleName = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,62}$', description: 'Role name (lower case, 1–63 characters)' });

/** A list of permissions, each once. */
export const PermissionList = Type.Array(PermissionName, { maxItems: 200, uniqueItems: true });

/** A list of roles, each once. */
export const RoleList = Type.Array(RoleName, {
  maxItems: 50,
  uniqueItems: true,
  description: 'Built-in (`owner`, `admin`, `member`) or defined by the product',
});

/** An e-mail address (the user's identity; compared ignoring case). */
export const Email = Type.String({ format: 'email', maxLength: 254 });

/** A language tag: `swe`, `en`, `en-GB`. */
export const Language = Type.String({
  pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
  maxLength: 35,
  description: 'Language tag, e.g. `swe`, `en-GB`',
});

/** A login within a tenant (unique there, ignoring case). */
export const Login = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,253}$',
  description: 'Unique within the tenant (ignoring case): letters, digits and . _ @ + -',
});

/** Body of `POST /v1/products/{product}/permissions`. */
export const PermissionCreate = Type.Object(
  { name: PermissionName, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type PermissionCreateBody = Static<typeof PermissionCreate>;

/** A permission the product defines. */
export const Permission = Type.Object({ name: Type.String(), description: Type.String(), createdAt: Timestamp });

/** Body of `POST /v1/products/{product}/roles`. */
export const RoleCreate = Type.Object(
  { name: RoleName, displayName: DisplayName, description: Type.Optional(Description), permissions: PermissionList },
  { additionalProperties: false },
);
export type RoleCreateBody = Static<typeof RoleCreate>;

/** A role template of a product, built in or defined. */
export const Role = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  description: Type.String(),
  builtIn: Type.Boolean(),
  allPermissions: Type.Boolean({ description: 'The role follows the catalogue: every permission the product defines, now and later' }),
  permissions: Type.Array(Type.String(), { description: 'What the role gives today' }),
  createdAt: Nullable(Timestamp),
});
export type RoleView = Static<typeof Role>;

/** Body of `POST /v1/tenants/{tenant}/users`. */
export const MembershipCreate = Type.Object(
  {
    email: Email,
    login: Type.Optional(Login),
    fullName: Type.Optional(DisplayName),
    defaultLanguage: Type.Optional(Language),
    roles: Type.Optional(RoleList),
    permissions: Type.Optional(PermissionList),
  },
  { additionalProperties: false },
);
export type MembershipCreateBody = Static<typeof MembershipCreate>;

/** Body of `PATCH /v1/tenants/{tenant}/users/{login}`: lists given replace the current ones. */
export const MembershipUpdate = Type.Object(
  { roles: Type.Optional(RoleList), permissions: Type.Optional(PermissionList) },
  { additionalProperties: false },
);
export type MembershipUpdateBody = Static<typeof MembershipUpdate>;

/** A user in a tenant. */
export const Membership = Type.Object({
  id: Type.String({ description: 'The membership id' }),
  login: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('invited')]),
  userId: Nullable(Type.String({ description: 'Null while the invitation is pending' })),
  email: Type.String(),
  fullName: Nullable(Type.String()),
  defaultLanguage: Nullable(Type.String()),
  roles: Type.Array(Type.String()),
  permissions: Type.Array(Type.String(), { description: 'Granted directly, besides the roles' }),
  effectivePermissions: Type.Array(Type.String(), { description: 'Everything the roles and direct permissions give' }),
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  invitationExpiresAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type MembershipView = Static<typeof Membership>;

/** A membership just created, with the invitation token when the person had to be invited. */
export const MembershipCreated = Type.Object({
  ...Membership.properties,
  invitation: Nullable(
    Type.Object(
      {
        token: Type.String({ description: 'Shown only in this response; send it to the person, who accepts with it' }),
        expiresAt: Timestamp,
      },
      { description: 'Set when no user had this e-mail: the person is invited and joins on accepting' },
    ),
  ),
});
export type MembershipCreatedView = Static<typeof MembershipCreated>;

/** Body of `POST /v1/invitations/accept`. */
export const InvitationAccept = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    fullName: Type.Optional(DisplayName),
    defaultLanguage: Type.Optional(Language),
  },
  { additionalProperties: false },
);
export type InvitationAcceptBody = Static<typeof InvitationAccept>;

/** A person, with the tenants the caller may see them in. */
export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  fullName: Type.String(),
  defaultLanguage: Nullable(Type.String()),
  memberships: Type.Array(
    Type.Object({
      id: Type.String(),
      tenant: Type.Object({ id: Type.String(), name: Type.String(), productId: Type.String() }),
      login: Type.String(),
      roles: Type.Array(Type.String()),
      permissions: Type.Array(Type.String()),
      effectivePermissions: Type.Array(Type.String()),
    }),
  ),
  createdAt: Timestamp,
});
export type UserView = Static<typeof User>;
