import { type Static, Type } from 'typebox';
import { Nullable, Timestamp } from '../http/schemas.ts';

const Path = (description: string) => Type.String({ pattern: '^/[\\x21-\\x7e]{0,499}$', description });
const HttpUrl = (description: string) => Type.String({ pattern: '^https?://[^\\s/]+[^\\s]{0,400}$', maxLength: 500, description });

/** The Maestrano roles a group member holds. */
export const MAESTRANO_ROLES = ['Member', 'Power User', 'Admin', 'Super Admin'] as const;
/** A Maestrano role. */
export type MaestranoRole = (typeof MAESTRANO_ROLES)[number];

/** Body of `POST /v1/products/{product}/marketplaces`: the marketplace entry's own values, as the app expects to read them back. */
export const MarketplaceCreate = Type.Object(
  {
    marketplace: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'The marketplace name (`maestrano`, `some-telco`)' }),
    nid: Type.String({ minLength: 1, maxLength: 200, description: 'The app’s NID on this marketplace' }),
    environment: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
      description: 'The app environment; its first marketplace creates its configuration credentials',
    }),
    app: Type.Object(
      { host: HttpUrl('The app’s base URL: DELETE notices go to it') },
      { additionalProperties: Type.String({ maxLength: 500 }), description: 'host, plus any app paths to echo' },
    ),
    sso: Type.Object(
      {
        idm: Type.Optional(HttpUrl('The host that consumes SAML responses (default: app.host)')),
        init_path: Path('Where the app starts SSO'),
        consume_path: Path('Where the app consumes the SAML response'),
      },
      { additionalProperties: false },
    ),
    webhooks: Type.Object(
      {
        account: Type.Object(
          {
            group_path: Path('DELETE target when a group cancels; `:id` is the group uid'),
            group_user_path: Path('DELETE target when a user leaves; `:group_id` and `:id`'),
          },
          { additionalProperties: false },
        ),
        connec: Type.Optional(
          Type.Object(
            {
              external_ids: Type.Optional(Type.Boolean()),
              initialization_path: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
              notification_path: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
              subscriptions: Type.Optional(Type.Unknown()),
            },
            { additionalProperties: false, description: 'Stored and echoed; Connec! is not implemented' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    connec: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ maxLength: 500 })),
          base_path: Type.Optional(Type.String({ maxLength: 500 })),
          timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
        },
        { additionalProperties: false, description: 'Stored and echoed; Connec! is not implemented' },
      ),
    ),
    roles: Type.Optional(
      Type.Partial(
        Type.Object({
          Member: Type.String(),
          'Power User': Type.String(),
          Admin: Type.String(),
          'Super Admin': Type.String(),
        }),
        {
          additionalProperties: false,
          description: 'Maestrano role → product role (default Member, Power User → member; Admin → admin; Super Admin → owner)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MarketplaceCreateBody = Static<typeof MarketplaceCreate>;

/** A marketplace as operators see it: never a secret. */
export const Marketplace = Type.Object({
  id: Type.String(),
  marketplace: Type.String(),
  nid: Type.String(),
  environment: Type.String(),
  product: Type.Object({ id: Type.String(), name: Type.String() }),
  apiId: Type.String(),
  app: Type.Record(Type.String(), Type.Unknown()),
  sso: Type.Record(Type.String(), Type.String()),
  webhooks: Type.Record(Type.String(), Type.Unknown()),
  connec: Type.Record(Type.String(), Type.Unknown()),
  roles: Type.Record(Type.String(), Type.String()),
  createdAt: Timestamp,
});
export type MarketplaceView = Static<typeof Marketplace>;

/** A marketplace just created: its API key, and the environment's credentials when this created them; shown only here. */
export const MarketplaceCreated = Type.Object({
  ...Marketplace.properties,
  apiKey: Type.String({ description: 'Shown here; the app reads it again only from the configuration endpoint' }),
  environmentCredentials: Nullable(
    Type.Object(
      { key: Type.String(), secret: Type.String({ description: 'Shown only here; Landlord keeps its hash' }) },
      { description: 'HTTP Basic for `GET /api/config/v1/marketplaces`; null when the environment existed already' },
    ),
  ),
});
export type MarketplaceCreatedView = Static<typeof MarketplaceCreated>;
