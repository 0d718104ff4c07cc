import { type TSchema, Type } from 'typebox';
import { DisplayName, Nullable } from '../http/schemas.ts';
import { Language } from '../people/people.schemas.ts';

/** OpenAPI tag of every Roomle route. */
export const roomleTags = ['Roomle compatibility'];

/** Roomle's package names. */
export const PACKAGES = ['tenant_free', 'tenant_basic', 'tenant_premium', 'tenant_enterprise'] as const;

const Instant = Type.String({ format: 'date-time', description: 'ISO 8601 with milliseconds, UTC (`Z`)' });

/** `meta` beside every Roomle payload. */
export const Meta = Type.Object({ serverTime: Instant, total: Type.Optional(Type.Integer()) });

/** The Roomle error shape: an `error` object (the SDK treats that key as a failure) beside `meta`. */
export const RoomleError = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Landlord’s stable code, e.g. `tenant.not_found`' }),
    message: Type.String(),
    field: Type.String({ description: 'The request field at fault, or empty' }),
    status: Type.Integer(),
    requestId: Type.Optional(Type.String({ description: 'On a 500: names the log line' })),
  }),
  meta: Meta,
});

/** Response schemas for error statuses, all the Roomle error shape. */
export function roomleErrors(...statuses: number[]): Record<number, typeof RoomleError> {
  return Object.fromEntries(statuses.map((status) => [status, RoomleError]));
}

/** `{ <key>: payload, meta }`, as Roomle wraps every answer. */
export function wrapped<K extends string, T extends TSchema>(key: K, payload: T) {
  return Type.Object({ [key]: payload, meta: Meta } as { [P in K]: T } & { meta: typeof Meta });
}

/** The tenant's id in paths: its number (`me` where the route allows it). */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 20, description: 'The tenant’s number' }) });

const Package = Type.Object({
  id: Type.String({ description: 'The subscription behind the package' }),
  package: Type.String({ description: PACKAGES.join(', ') }),
  fromPromocode: Type.Boolean(),
  validFrom: Instant,
  validTill: Nullable(Instant),
});

const Links = Type.Object(
  Object.fromEntries(
    ['plans', 'roles', 'users', 'catalogs', 'visibleCatalogs', 'shownCatalogs', 'paymentConnections', 'billingInformation', 'usages'].map(
      (name) => [name, Type.String()],
    ),
  ),
);

const Skin = Type.Unknown({ description: 'Any JSON the front end keeps' });
const Visibility = Type.Integer({ minimum: 0, maximum: 1000, description: 'Visibility level' });
const PrivacyUrl = Nullable(Type.String({ format: 'uri', maxLength: 2000 }));
const Modules = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, uniqueItems: true });
const Languages = Type.Array(Language, { maxItems: 100, uniqueItems: true });
const Configuration = Nullable(Type.String({ maxLength: 65_536, description: 'Tenant configuration (a string, as Roomle keeps it)' }));

/** The tenant object. `webhook` and `apiKey` only for callers with tenant management rights. */
export const RoomleTenant = Type.Object({
  id: Type.Integer({ description: 'The tenant’s stable number (Roomle ids are longs)' }),
  name: Type.String(),
  label: Type.String(),
  active: Type.Boolean(),
  showLanguageSwitch: Type.Boolean(),
  defaultLanguage: Nullable(Type.String()),
  languages: Type.Array(Type.String()),
  authenticationRequired: Type.Boolean(),
  visibility: Type.Integer(),
  privacyUrl: Nullable(Type.String()),
  webhook: Type.Optional(Nullable(Type.String())),
  webhookSecret: Type.Optional(Type.String({ description: 'Only in the answer of the PUT that set `webhook`: shown once' })),
  apiKey: Type.Optional(Nullable(Type.String())),
  packages: Type.Array(Package),
  configurators: Type.Array(Type.Unknown(), { description: 'Roomle product data: not managed by Landlord, always empty' }),
  links: Links,
  allowRegistration: Type.Boolean(),
  branded: Type.Boolean(),
  skin: Skin,
  catalogs: Type.Array(Type.Unknown()),
  visibleCatalogs: Type.Array(Type.Unknown()),
  shownCatalogs: Type.Array(Type.Unknown()),
  catalogConnections: Type.Array(Type.Unknown()),
  configuration: Nullable(Type.String()),
  modules: Type.Array(Type.String()),
  status: Type.String({ description: 'Landlord’s lifecycle status (an extension)' }),
});

const Settings = {
  languages: Type.Optional(Languages),
  defaultLanguage: Type.Optional(Nullable(Language)),
  showLanguageSwitch: Type.Optional(Type.Boolean()),
  authenticationRequired: Type.Optional(Type.Boolean()),
  visibility: Type.Optional(Visibility),
  privacyUrl: Type.Optional(PrivacyUrl),
  allowRegistration: Type.Optional(Type.Boolean()),
  branded: Type.Optional(Type.Boolean()),
  skin: Type.Optional(Skin),
  configuration: Type.Optional(Configuration),
  modules: Type.Optional(Modules),
};

/** Body of `POST /v2/tenants/`. */
export const RoomleTenantCreate = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
      description: 'Unique across the installation: lower case letters, digits and inner hyphens, 1–63 characters',
    }),
    label: DisplayName,
    active: Type.Optional(Type.Boolean({ description: 'Only true: a new tenant becomes active through its creation' })),
    product: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Needed when more than one product serves the Roomle API' }),
    ),
    ...Settings,
  },
  { additionalProperties: false },
);

// What a client reads and sends back unchanged; accepted on PUT and ignored (name must match).
const ReadOnly = Object.fromEntries(
  [
    'id',
    'packages',
    'configurators',
    'links',
    'users',
    'catalogs',
    'visibleCatalogs',
    'shownCatalogs',
    'catalogConnections',
    'status',
    'roles',
    'plans',
  ].map((name) => [name, Type.Optional(Type.Unknown())]),
);

/** Body of `PUT /v2/tenants/{id}/`. */
export const RoomleTenantUpdate = Type.Object(
  {
    ...ReadOnly,
    name: Type.Optional(Type.String({ maxLength: 63, description: 'Cannot change; must match when sent' })),
    label: Type.Optional(DisplayName),
    active: Type.Optional(Type.Boolean({ description: 'false deactivates the tenant, true activates it again' })),
    webhook: Type.Optional(
      Nullable(Type.String({ maxLength: 2000, description: 'A new URL replaces the tenant’s endpoint; null or "" removes it' })),
    ),
    apiKey: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'Any value other than the current key rotates it' }))),
    ...Settings,
  },
  { additionalProperties: false },
);
