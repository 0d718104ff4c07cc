import type { HttpApp } from '../http/types.ts';
import { identityDeps } from '../identity/identity-deps.ts';
import type { Services } from '../routes.ts';
import { registerAccountApi } from './account-api.routes.ts';
import { registerGroupRoutes } from './groups.routes.ts';
import { registerMaestranoSso } from './maestrano-sso.routes.ts';
import { registerMarketplaceConfigRoutes } from './marketplace-config.routes.ts';
import { registerMarketplaceRoutes } from './marketplaces.routes.ts';
import { marketplaceAuthenticator } from './marketplaces.service.ts';

/** Every route of the marketplace channel: the operators' `/v1` side and Maestrano's own paths. */
export async function registerMarketplaceFeature(app: HttpApp, services: Services): Promise<void> {
  const { db, clock, box } = services;
  const authenticate = marketplaceAuthenticator(db, clock);
  registerMarketplaceRoutes(app, db, { clock, box });
  registerGroupRoutes(app, db, { clock, authenticator: services.authenticator, authenticate });
  registerMarketplaceConfigRoutes(app, db, { clock, box, baseUrl: services.baseUrl });
  await registerAccountApi(app, db, { clock, nudgeSequencer: services.nudgeSequencer, authenticate });
  registerMaestranoSso(app, db, { ...identityDeps(services.config, clock, services.baseUrl), box });
}
