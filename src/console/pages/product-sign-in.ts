import type { ProductRow } from '../../db/schema.ts';
import { html, type SafeHtml } from '../../http/html.ts';
import { listOidcClients, toOidcClientView } from '../../oidc/oidc-clients.service.ts';
import { publishedCertificates } from '../../saml/certificates.ts';
import { productIdp } from '../../saml/saml.routes.ts';
import { listSamlProviders, productCertificateOwner, toSamlProviderView } from '../../saml/saml-providers.service.ts';
import { badge, empty, when } from '../layout.ts';
import type { ConsoleContext } from '../router.ts';

/**
 * How the product's users sign in through Landlord: its OIDC clients and SAML service providers, with the
 * addresses and fingerprints a product team copies into its configuration. Read-only: clients and providers are
 * registered through the API, where a client's secret is shown once.
 */
export async function renderSignIn(context: ConsoleContext, product: ProductRow): Promise<SafeHtml> {
  const { db, clock, baseUrl } = context.services;
  const [clients, providers, certificates] = await Promise.all([
    listOidcClients(db, context.caller, product.id, undefined, 100),
    listSamlProviders(db, context.caller, product.id, undefined, 100),
    // Read as published; the signing certificate is generated on the first SAML use, not by a page view.
    publishedCertificates(db, clock, productCertificateOwner(product.id)),
  ]);
  const issuer = baseUrl();
  const idp = productIdp(issuer, product);
  const oidc = clients.items.map(toOidcClientView);
  const saml = providers.items.map(toSamlProviderView);
  return html`<h3>OpenID Connect</h3>
<p>Issuer <span class="mono">${issuer}</span> · <a href="/.well-known/openid-configuration">discovery</a> · <a href="/.well-known/jwks.json">keys</a></p>
${
  oidc.length
    ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Type</th><th scope="col">ID tokens</th><th scope="col">Redirect URIs</th><th scope="col">Created</th><th scope="col">State</th></tr></thead><tbody>${oidc.map(
        (client) =>
          html`<tr><td>${client.name}</td><td class="mono">${client.clientId}</td><td>${client.type}</td><td class="mono">${client.idTokenSigningAlg}</td><td class="mono">${client.redirectUris.map((uri) => html`${uri}<br>`)}</td><td>${when(client.createdAt)}</td><td>${client.revoked ? badge('revoked', 'neutral') : badge('active', 'good')}</td></tr>`,
      )}</tbody></table>`
    : empty(`No OIDC clients. Register one with POST /v1/products/${product.name}/oidc-clients.`)
}
<h3>SAML 2.0</h3>
<p>Identity provider <span class="mono">${idp.entityId}</span> · <a href="/saml/${product.name}/metadata">metadata</a></p>
${
  certificates.length
    ? html`<table><thead><tr><th scope="col">Certificate</th><th scope="col">SHA-1 fingerprint</th><th scope="col">SHA-256 fingerprint</th><th scope="col">Valid until</th><th scope="col">State</th></tr></thead><tbody>${certificates.map(
        (certificate) =>
          html`<tr><td class="mono">${certificate.id}</td><td class="mono">${certificate.sha1Fingerprint}</td><td class="mono">${certificate.sha256Fingerprint}</td><td>${when(certificate.notAfter)}</td><td>${certificate.retiredAt === null ? badge('signing', 'good') : html`${badge('retired', 'neutral')} ${when(certificate.retiredAt)}`}</td></tr>`,
      )}</tbody></table>`
    : empty('No signing certificate yet: one is made when the metadata or a sign-in first needs it.')
}
${
  saml.length
    ? html`<table><thead><tr><th scope="col">Service provider (entity id)</th><th scope="col">ACS URL</th><th scope="col">NameID</th><th scope="col">Response signed</th><th scope="col">Created</th></tr></thead><tbody>${saml.map(
        (provider) =>
          html`<tr><td class="mono">${provider.entityId}</td><td class="mono">${provider.acsUrl}</td><td>${provider.nameIdFormat}</td><td>${provider.signResponse ? 'yes' : 'assertion only'}</td><td>${when(provider.createdAt)}</td></tr>`,
      )}</tbody></table>`
    : empty(`No SAML service providers. Register one with POST /v1/products/${product.name}/saml-providers.`)
}`;
}
