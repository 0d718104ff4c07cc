import type { Db } from '../db/database.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { signingCertificate } from '../saml/certificates.ts';
import { marketplaceCertificateOwner } from './maestrano-format.ts';
import { authenticateEnvironment, type MarketplaceRow } from './marketplaces.service.ts';

/** What the configuration endpoint needs. */
export interface MarketplaceConfigDeps {
  clock: Clock;
  box: SecretBox;
  /** Landlord's public URL: `api.host` and `sso.idp` of every entry. */
  baseUrl: () => string;
}

/** Where the app's SDK sends account API calls and SSO requests: `api.host` + this. */
export const API_BASE = '/api/v1/';

/**
 * One entry of the dynamic configuration, in the document's shape: the app's own values as
 * configured, the API credentials, Landlord as IdP with this marketplace's certificate (made
 * on first use) and its SHA-1 fingerprint.
 */
export async function configurationEntry(db: Db, deps: MarketplaceConfigDeps, row: MarketplaceRow, environment: string) {
  const certificate = await signingCertificate(db, deps.box, deps.clock, marketplaceCertificateOwner(row.id), `${row.name} SAML IdP`);
  const base = deps.baseUrl();
  return {
    marketplace: row.name,
    nid: row.nid,
    environment,
    app: row.app,
    api: { id: row.api_id, key: deps.box.open(row.api_key_sealed), host: base, base: API_BASE },
    sso: {
      ...row.sso,
      idp: base,
      x509_fingerprint: certificate.sha1Fingerprint,
      x509_certificate: certificate.certificatePem,
    },
    connec: row.connec,
    webhooks: row.webhooks,
  };
}

/**
 * `GET /api/config/v1/marketplaces` (and with a trailing slash, which the PHP SDK asks
 * for): HTTP Basic `environment key:secret` → `{"marketplaces": [...]}`, one entry per
 * marketplace of that environment. Wrong credentials: 401 with a top-level `error`, which
 * is how the Java and PHP SDKs recognise a refusal.
 */
export function registerMarketplaceConfigRoutes(app: HttpApp, db: Db, deps: MarketplaceConfigDeps): void {
  app.get('/api/config/v1/marketplaces', { config: { public: true, throttled: true }, schema: { hide: true } }, async (request, reply) => {
    const environment = await authenticateEnvironment(db, request.headers.authorization);
    if (!environment) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="marketplaces"')
        .send({ success: false, error: 'Invalid credentials', errors: { authentication: ['Invalid environment key or secret'] } });
    }
    const rows = await db
      .selectFrom('marketplaces')
      .selectAll()
      .where('environment_id', '=', environment.id)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const marketplaces = [];
    for (const row of rows) marketplaces.push(await configurationEntry(db, deps, row, environment.name));
    return reply.header('cache-control', 'no-store').send({ marketplaces });
  });
}
