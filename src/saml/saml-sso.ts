import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { cspHash, html, type PagePolicy, SafeHtml } from '../http/html.ts';
import type { SignedInIdentity } from '../identity/tenant-context.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { Session } from '../sessions/session-store.ts';
import { type CertificateOwner, signingCertificate } from './certificates.ts';
import { type AuthnRequest, buildSignedResponse, NAME_ID_FORMATS, type SamlAttribute, SamlRequestError } from './saml-xml.ts';

/**
 * The reusable core of a SAML 2.0 identity provider. Who owns it (a product, a
 * marketplace) supplies the entity id, the certificate owner, and how NameID and
 * attributes are made; this module checks requests (replays, expiry), signs responses
 * and renders the auto-POST form.
 */
export interface SamlIdp {
  entityId: string;
  certificateOwner: CertificateOwner;
  /** The common name of a certificate generated for the owner. */
  certificateName: string;
}

/** A service provider as the core needs it. */
export interface SamlAudience {
  /** The provider's id, or the marketplace's when `owner` is `marketplace` (its app is the SP). */
  id: string;
  owner?: 'provider' | 'marketplace';
  entityId: string;
  acsUrl: string;
  signResponse: boolean;
}

/** Makes the NameID and attributes of an assertion for the signed-in user (pluggable per channel). */
export type AssertionBuilder = (
  identity: SignedInIdentity,
  session: Session,
) => { nameId: { value: string; format: string }; attributes: SamlAttribute[] };

/** How long an assertion is valid, and how long an AuthnRequest waits for the user to sign in. */
export const ASSERTION_VALIDITY_SECONDS = 300;
export const REQUEST_VALIDITY_SECONDS = 600;
/** How far an AuthnRequest's IssueInstant may be from Landlord's clock. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Accepts an AuthnRequest for `sp`: refuses one issued too long ago (or in the future),
 * or whose ACS URL is not the registered one; records its id, so the same request
 * presented again is refused as a replay (a unique key, on any number of nodes). Returns
 * the id of the pending sign-in, to continue once the user is signed in.
 */
export async function acceptAuthnRequest(
  db: Db,
  clock: Clock,
  sp: SamlAudience,
  request: AuthnRequest,
  relayState: string | undefined,
): Promise<string> {
  const now = clock.now();
  if (Math.abs(now.getTime() - request.issueInstant.getTime()) > CLOCK_SKEW_MS)
    throw new SamlRequestError('The request was issued too long ago (or in the future)');
  if (request.acsUrl !== undefined && request.acsUrl !== sp.acsUrl)
    throw new SamlRequestError('The AssertionConsumerServiceURL is not the one registered for this service provider');
  const id = newId();
  try {
    await db
      .insertInto('saml_requests')
      .values({
        id,
        ...(sp.owner === 'marketplace' ? { provider_id: null, marketplace_id: sp.id } : { provider_id: sp.id }),
        request_id: request.id,
        acs_url: sp.acsUrl,
        relay_state: relayState ?? null,
        created_at: now,
        expires_at: new Date(now.getTime() + REQUEST_VALIDITY_SECONDS * 1000),
      })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new SamlRequestError('This request was used already');
    throw error;
  }
  return id;
}

/** Spends a pending sign-in (once; it expires after 10 minutes): the request id to answer and the relay state. */
export async function takePendingRequest(db: Db, clock: Clock, pendingId: string, providerId?: string) {
  const now = clock.now();
  let query = db
    .updateTable('saml_requests')
    .set({ consumed_at: now })
    .where('id', '=', pendingId)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now);
  if (providerId) query = query.where('provider_id', '=', providerId);
  return query.returning(['provider_id', 'request_id', 'relay_state']).executeTakeFirst();
}

/** Builds and signs the response for the signed-in user; returns it base64-encoded, as the POST binding carries it. */
export async function issueSamlResponse(
  db: Db,
  deps: { clock: Clock; box: SecretBox },
  idp: SamlIdp,
  sp: SamlAudience,
  build: AssertionBuilder,
  signedIn: { identity: SignedInIdentity; session: Session; inResponseTo?: string },
): Promise<string> {
  const certificate = await signingCertificate(db, deps.box, deps.clock, idp.certificateOwner, idp.certificateName);
  const { nameId, attributes } = build(signedIn.identity, signedIn.session);
  const xml = buildSignedResponse({
    idpEntityId: idp.entityId,
    spEntityId: sp.entityId,
    acsUrl: sp.acsUrl,
    inResponseTo: signedIn.inResponseTo,
    nameId,
    sessionIndex: signedIn.session.id,
    authnInstant: signedIn.session.createdAt,
    attributes,
    now: deps.clock.now(),
    validitySeconds: ASSERTION_VALIDITY_SECONDS,
    signResponse: sp.signResponse,
    certificatePem: certificate.certificatePem,
    privateKeyPem: certificate.privateKeyPem,
  });
  return Buffer.from(xml, 'utf8').toString('base64');
}

const AUTO_SUBMIT = 'document.forms[0].submit();';

/** The page that posts the response to the ACS (at once with script; with a button without). */
export function samlPostPage(
  acsUrl: string,
  samlResponse: string,
  relayState: string | null | undefined,
): { page: SafeHtml; policy: PagePolicy } {
  const page = html`<html lang="en"><head><meta charset="utf-8"><title>Signing you in…</title></head><body>
<form method="post" action="${acsUrl}"><input type="hidden" name="SAMLResponse" value="${samlResponse}">${relayState ? html`<input type="hidden" name="RelayState" value="${relayState}">` : ''}
<noscript><p>Your browser does not run scripts: press Continue to finish signing in.</p></noscript><button type="submit">Continue</button></form>
<script>${new SafeHtml(AUTO_SUBMIT)}</script></body></html>`;
  return { page, policy: { scriptHashes: [cspHash(AUTO_SUBMIT)], formAction: [new URL(acsUrl).origin] } };
}

/** The sources an attribute mapping may name, and what each gives. */
export const ATTRIBUTE_SOURCES: Record<string, (identity: SignedInIdentity, session: Session) => string[]> = {
  email: (identity) => [identity.user.email],
  name: (identity) => [identity.user.fullName],
  uid: (identity) => [identity.user.id],
  locale: (identity) => (identity.user.locale ? [identity.user.locale] : []),
  login: (identity) => [identity.tenant.login],
  'tenant.uid': (identity) => [identity.tenant.id],
  'tenant.name': (identity) => [identity.tenant.name],
  'tenant.display_name': (identity) => [identity.tenant.displayName],
  'tenant.role': (identity) => [identity.tenant.roles[0] ?? 'member'],
  'tenant.roles': (identity) => identity.tenant.roles,
  'tenant.permissions': (identity) => identity.tenant.permissions,
  'session.id': (_identity, session) => [session.id],
  'session.authenticated_at': (_identity, session) => [session.createdAt.toISOString()],
};

/** The attributes every product assertion carries, by SAML attribute name → source. */
export const DEFAULT_ATTRIBUTES: Record<string, string> = {
  email: 'email',
  name: 'name',
  uid: 'uid',
  login: 'login',
  tenant_uid: 'tenant.uid',
  tenant_name: 'tenant.name',
  tenant_role: 'tenant.role',
  roles: 'tenant.roles',
  permissions: 'tenant.permissions',
  session: 'session.id',
  authenticated_at: 'session.authenticated_at',
};

/**
 * The assertion builder of a product's own service providers: NameID in the provider's
 * format (persistent: the user id; emailAddress: the e-mail) and the default attributes
 * plus those the provider's mapping asks for (a mapping entry replaces a default of the same name).
 */
export function productAssertionBuilder(nameIdFormat: string, mapping: Record<string, string>): AssertionBuilder {
  return (identity, session) => {
    const sources = { ...DEFAULT_ATTRIBUTES, ...mapping };
    const attributes = Object.entries(sources)
      .map(([name, source]) => ({ name, values: ATTRIBUTE_SOURCES[source]?.(identity, session) ?? [] }))
      .filter((attribute) => attribute.values.length > 0);
    const value = nameIdFormat === NAME_ID_FORMATS.emailAddress ? identity.user.email : identity.user.id;
    return { nameId: { value, format: nameIdFormat }, attributes };
  };
}
