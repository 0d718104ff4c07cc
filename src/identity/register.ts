import type { HttpApp } from '../http/types.ts';
import { createOidcClientCache } from '../oidc/client-cache.ts';
import { createOidcHost, registerOidcRoutes } from '../oidc/oidc.routes.ts';
import { registerOidcClientRoutes } from '../oidc/oidc-clients.routes.ts';
import type { Services } from '../routes.ts';
import { registerSamlRoutes } from '../saml/saml.routes.ts';
import { registerSamlProviderRoutes } from '../saml/saml-providers.routes.ts';
import { registerIdentityPages } from './identity.routes.ts';
import { identityDeps } from './identity-deps.ts';
import { registerPasswordLinkRoutes } from './password-links.routes.ts';
import { registerUserSessionRoutes } from './user-sessions.routes.ts';

/** Registers everything identity serves: Landlord's sign-in pages, password links, sessions, OIDC and SAML. */
export async function registerIdentityRoutes(app: HttpApp, services: Services): Promise<void> {
  const deps = identityDeps(services.config, services.clock, services.baseUrl);
  registerIdentityPages(app, services.db, deps);
  registerPasswordLinkRoutes(app, services.db, deps);
  registerUserSessionRoutes(app, services.db, { clock: services.clock });
  registerOidcClientRoutes(app, services.db, { clock: services.clock });
  const clients = await createOidcClientCache(services.db, services.listener);
  const oidc = { ...deps, keyRing: services.keyRing, box: services.box, clients };
  registerOidcRoutes(app, services.db, oidc, createOidcHost(services.db, oidc));
  registerSamlProviderRoutes(app, services.db, { clock: services.clock, box: services.box });
  registerSamlRoutes(app, services.db, { ...deps, box: services.box });
}
