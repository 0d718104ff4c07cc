import type { Logger } from 'pino';
import { registerClientRoutes } from './access/clients.routes.ts';
import { registerTokenRoutes } from './access/token.routes.ts';
import { registerAuditRoutes } from './audit/audit.routes.ts';
import { registerCatalogueRoutes } from './catalogue/catalogue.routes.ts';
import type { Config } from './config/config.ts';
import type { Db } from './db/database.ts';
import { registerEventRoutes } from './events/events.routes.ts';
import { registerWebhookRoutes } from './webhooks/webhooks.routes.ts';
import type { HttpApp } from './http/types.ts';
import type { Clock } from './platform/clock.ts';
import type { OutboundHttp } from './platform/outbound.ts';
import type { SecretBox } from './platform/secret-box.ts';
import type { KeyRing } from './platform/signing-keys.ts';
import { registerProductRoutes } from './products/products.routes.ts';
import { registerRosaasRoutes } from './rosaas/rosaas.routes.ts';
import { registerLifecycleRoutes } from './tenants/lifecycle.routes.ts';
import { registerTenantRoutes } from './tenants/tenants.routes.ts';

/** The shared parts every feature is built from. */
export interface Services {
  db: Db;
  box: SecretBox;
  clock: Clock;
  keyRing: KeyRing;
  config: Config;
  log: Logger;
  /** Landlord's outbound HTTP: calls to backends, probes, deliveries. */
  http: OutboundHttp;
  /** This node's id in the registry of running nodes. */
  nodeId: string;
}

/** Registers every feature's routes on the app. */
export async function registerFeatureRoutes(app: HttpApp, services: Services): Promise<void> {
  const { db, box, clock } = services;
  registerProductRoutes(app, db, { box, clock });
  registerCatalogueRoutes(app, db, { clock });
  registerClientRoutes(app, db, { clock });
  registerTokenRoutes(app, db, { keyRing: services.keyRing, clock });
  registerAuditRoutes(app, db);
  registerTenantRoutes(app, db, { clock });
  registerLifecycleRoutes(app, db, { clock });
  registerEventRoutes(app, db);
  registerWebhookRoutes(app, db, { box, clock });
  await registerRosaasRoutes(app, db, { clock, keyRing: services.keyRing });
}
