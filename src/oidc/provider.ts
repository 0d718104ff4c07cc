import { randomBytes } from 'node:crypto';
import Provider, { type Configuration, errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { matchesHash } from '../access/credential-format.ts';
import { type Db, executePrepared } from '../db/database.ts';
import { html, SafeHtml } from '../http/html.ts';
import type { IdentityDeps } from '../identity/identity-deps.ts';
import { layout, messagePage } from '../identity/pages.ts';
import { endUserSession } from '../identity/session-actions.ts';
import type { SignedInIdentity } from '../identity/tenant-context.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { type KeyRing, RING_ALGORITHMS } from '../platform/signing-keys.ts';
import { findSession } from '../sessions/session-store.ts';
import { postgresAdapter } from './adapter.ts';
import type { OidcClientCache } from './client-cache.ts';
import { grantIdentities, grantTenant } from './tenant-grants.ts';

/** The resource indicator of a product's API: ask for it (`resource`) to get a JWT access token for the product. */
export const resourceOf = (productName: string) => `urn:landlord:product:${productName}`;
/** How long access tokens live (seconds). */
export const ACCESS_TOKEN_TTL_SECONDS = 600;

/** What the OpenID Connect provider needs. */
export interface OidcDeps extends IdentityDeps {
  keyRing: KeyRing;
  box: SecretBox;
  clients: OidcClientCache;
}

/** The claims of the `tenant` claim: the tenant the user signed in to, their login, roles and permissions there. */
export function tenantClaim(identity: {
  tenant: { id: string; name: string; displayName: string; login: string; roles: string[]; permissions: string[] };
}) {
  const { id, name, displayName, login, roles, permissions } = identity.tenant;
  return { id, name, display_name: displayName, login, roles, permissions };
}

/** A user without a tenant context (a token without a grant's membership): their own fields only. */
async function userById(db: Db, id: string): Promise<SignedInIdentity['user'] | undefined> {
  const [user] = await executePrepared(
    db,
    db
      .selectFrom('users')
      .select((eb) => [
        'users.email',
        'users.full_name',
        'users.default_language',
        eb
          .exists(eb.selectFrom('user_passwords').select('user_passwords.user_id').whereRef('user_passwords.user_id', '=', 'users.id'))
          .as('email_verified'),
      ])
      .where('users.id', '=', id),
  );
  return (
    user && { id, email: user.email, emailVerified: user.email_verified === true, fullName: user.full_name, locale: user.default_language }
  );
}

/** The key that signs the provider's cookies: made once, kept sealed in the database, shared by every node. */
async function cookieKey(db: Db, box: SecretBox): Promise<string> {
  await db
    .insertInto('landlord_secrets')
    .values({ name: 'oidc_cookie_key', value: box.seal(randomBytes(32).toString('base64url')) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('landlord_secrets').select('value').where('name', '=', 'oidc_cookie_key').executeTakeFirstOrThrow();
  return box.open(row.value);
}

/**
 * Builds oidc-provider for `issuer`: code flow with PKCE (required for public clients),
 * refresh tokens, RP-initiated logout, userinfo; keys from Landlord's ring (ID tokens in
 * the client's algorithm, RS256 unless it chose ES256 or EdDSA; EdDSA JWT access tokens
 * for a product's resource); storage in PostgreSQL;
 * Landlord's sign-in page as the login interaction, which also requires a live Landlord
 * session of the same user, so a revoked session signs nobody in.
 */
export async function buildProvider(db: Db, deps: OidcDeps, issuer: string): Promise<Provider> {
  const { clock, sessions } = deps;
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('landlord_session', 'the Landlord session ended or is someone else’s', async (ctx) => {
      const session = await findSession(db, clock, sessions, ctx.cookies.get(sessions.cookie.name, { signed: false }));
      const accountId = ctx.oidc.session?.accountId;
      return session && session.subjectId === accountId
        ? interactionPolicy.Check.NO_NEED_TO_PROMPT
        : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );

  const productOf = (ctx: KoaContextWithOIDC) => String(ctx.oidc.client?.landlord_product ?? '');
  // One read of a grant's identity per request: the access token's claims, the ID token's
  // and userinfo's all ask for it.
  const identities = new WeakMap<object, Map<string, Promise<SignedInIdentity | undefined>>>();
  const identityOfGrant = grantIdentities(db);
  const identityOf = (ctx: object, grantId: string | undefined) => {
    if (!grantId) return Promise.resolve(undefined);
    const byGrant = identities.get(ctx) ?? new Map<string, Promise<SignedInIdentity | undefined>>();
    identities.set(ctx, byGrant);
    const identity = byGrant.get(grantId) ?? identityOfGrant(grantId);
    byGrant.set(grantId, identity);
    return identity;
  };

  const configuration: Configuration = {
    adapter: postgresAdapter(db, clock, deps.clients),
    clients: [],
    jwks: { keys: (await deps.keyRing.privateJwks()) as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [await cookieKey(db, deps.box)],
      long: { httpOnly: true, sameSite: 'lax', secure: sessions.cookie.secure, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure: sessions.cookie.secure, signed: true },
    },
    claims: {
      openid: ['sub', 'tenant'],
      email: ['email', 'email_verified'],
      profile: ['name', 'locale'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    conformIdTokenClaims: false,
    extraParams: ['tenant'],
    extraClientMetadata: { properties: ['landlord_product', 'landlord_product_id'] },
    clientDefaults: {
      id_token_signed_response_alg: 'RS256',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    clientAuthMethods: ['client_secret_basic', 'none'],
    responseTypes: ['code'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    enabledJWA: { idTokenSigningAlgValues: [...RING_ALGORITHMS], userinfoSigningAlgValues: [...RING_ALGORITHMS] },
    routes: {
      authorization: '/oidc/auth',
      token: '/oidc/token',
      userinfo: '/oidc/me',
      end_session: '/oidc/session/end',
      revocation: '/oidc/token/revocation',
      introspection: '/oidc/token/introspection',
      jwks: '/.well-known/jwks.json',
      registration: '/oidc/reg',
      pushed_authorization_request: '/oidc/request',
      code_verification: '/oidc/device',
      device_authorization: '/oidc/device/auth',
      backchannel_authentication: '/oidc/backchannel',
      challenge: '/oidc/challenge',
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Grant: sessions.absoluteSeconds,
      Session: sessions.absoluteSeconds,
      RefreshToken: sessions.absoluteSeconds,
    },
    // Every client is the product's own (first party): tokens may always be refreshed while the session lives.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The grant the interaction just made; else the session's grant for the client while it is
    // for the tenant the Landlord session has chosen (and the one the request names, if any):
    // a change of tenant makes a new grant through the interaction.
    loadExistingGrant: async (ctx) => {
      const made = ctx.oidc.result?.consent?.grantId;
      if (made) return ctx.oidc.provider.Grant.find(String(made));
      const grantId = ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
      if (!grantId) return undefined;
      const session = await findSession(db, clock, sessions, ctx.cookies.get(sessions.cookie.name, { signed: false }));
      const tenant = await grantTenant(db, grantId);
      const hint = ctx.oidc.params?.tenant;
      const current =
        session !== undefined &&
        tenant !== undefined &&
        session.tenants[String(ctx.oidc.client?.landlord_product_id)] === tenant.membershipId &&
        (typeof hint !== 'string' || hint === tenant.tenantName || hint === tenant.tenantId);
      return current ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = `<!doctype html>\n${
            layout(
              'Sign out',
              undefined,
              html`<h1>Sign out?</h1><p>Sign out of your account here and in the application you came from.</p>${new SafeHtml(form)}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="link" type="submit" form="op.logoutForm">No, stay signed in</button>`,
            ).value
          }`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = `<!doctype html>\n${messagePage('Signed out', 'You are signed out.').value}`;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== resourceOf(productOf(ctx)))
            throw new errors.InvalidTarget('the only resource a client may ask for is its own product');
          return {
            scope: 'api',
            audience: productOf(ctx),
            accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'EdDSA' } },
          };
        },
      },
    },
    extraTokenClaims: async (ctx, token) => {
      if (token.kind !== 'AccessToken' || !('aud' in token) || !token.aud) return undefined;
      const identity = await identityOf(ctx, token.grantId);
      return identity ? { tenant: tenantClaim(identity) } : undefined;
    },
    findAccount: async (ctx, sub, token) => {
      // The grant's identity carries the user too: one statement for the whole answer.
      const identity = await identityOf(ctx, token?.grantId);
      const user = identity?.user.id === sub ? identity.user : await userById(db, sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          email: user.email,
          email_verified: user.emailVerified,
          name: user.fullName,
          ...(user.locale ? { locale: user.locale } : {}),
          ...(identity && identity.user.id === sub ? { tenant: tenantClaim(identity) } : {}),
        }),
      };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      const detail = typeof out.error_description === 'string' ? out.error_description : String(out.error ?? 'error');
      ctx.body = `<!doctype html>\n${messagePage('Sign-in failed', `The application’s sign-in request was refused: ${detail}.`).value}`;
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = true;
  // Client secrets are stored as SHA-256 (the metadata carries the hash, never the secret);
  // symmetric algorithms, which would need the secret itself, are not enabled.
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return this.clientSecret !== undefined && matchesHash(actual, Buffer.from(this.clientSecret, 'hex'));
  };
  // RP-initiated logout ends the Landlord session too, before the answer leaves.
  provider.use(async (ctx, next) => {
    await next();
    const signedOut = (ctx.req as { landlordSignedOut?: boolean }).landlordSignedOut;
    if (!signedOut) return;
    const session = await findSession(db, clock, sessions, ctx.cookies.get(sessions.cookie.name, { signed: false }));
    if (session) {
      await db
        .transaction()
        .execute((tx) =>
          endUserSession(
            tx,
            clock,
            { type: 'user', id: session.subjectId, requestId: null },
            { id: session.id, userId: session.subjectId, productId: null },
            'signed_out',
          ),
        );
    }
    ctx.cookies.set(sessions.cookie.name, '', {
      signed: false,
      httpOnly: true,
      sameSite: 'lax',
      secure: sessions.cookie.secure,
      expires: new Date(0),
      overwrite: true,
    });
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    (ctx.req as { landlordSignedOut?: boolean }).landlordSignedOut = true;
  });
  return provider;
}
