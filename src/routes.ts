import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticator } from './access/authenticator.ts';
import { registerClientRoutes } from './access/clients.routes.ts';
import { registerTokenRoutes } from './access/token.routes.ts';
import { registerAuditRoutes } from './audit/audit.routes.ts';
// calls and billing
import { registerBillRoutes } from './billing/bills.routes.ts';
import { registerCatalogueRoutes } from './catalogue/catalogue.routes.ts';
// commerce
import { registerCommerceRoutes } from './commerce/commerce.routes.ts';
import type { Config } from './config/config.ts';
import { registerConnectionRoutes } from './connections/connections.routes.ts';
import { createConnectionVerifier } from './connections/verifier.ts';
import { registerConsole } from './console/console.routes.ts';
import type { Db } from './db/database.ts';
import type { Listener } from './db/listener.ts';
import { registerEventRoutes } from './events/events.routes.ts';
import type { SequencerNudge } from './events/nudge.ts';
import { registerHealthRoutes } from './health/health.routes.ts';
import type { HttpApp } from './http/types.ts';
import { identityDeps } from './identity/identity-deps.ts';
import { registerIdentityRoutes } from './identity/register.ts';
import { registerLoginLinkRoutes } from './login-links/login-links.routes.ts';
import { registerMarketplaceFeature } from './marketplaces/register.ts';
import { registerPaymentRoutes } from './payments/payments.routes.ts';
import { registerPeopleRoutes } from './people/people.routes.ts';
import { registerRoleRoutes } from './people/roles.routes.ts';
import { registerPlanChangeRoutes } from './plan-changes/plan-changes.routes.ts';
import type { Clock } from './platform/clock.ts';
import type { OutboundHttp } from './platform/outbound.ts';
import type { SecretBox } from './platform/secret-box.ts';
import type { KeyRing } from './platform/signing-keys.ts';
import { registerProductRoutes } from './products/products.routes.ts';
import { registerResellerApi } from './resellers/reseller-api.routes.ts';
import { registerResellerRoutes } from './resellers/resellers.routes.ts';
import { registerRoomleRoutes } from './roomle/roomle.routes.ts';
import { registerRosaasRoutes } from './rosaas/rosaas.routes.ts';
import { registerLifecycleRoutes } from './tenants/lifecycle.routes.ts';
import { registerTenantRoutes } from './tenants/tenants.routes.ts';
import { registerUsageRoutes } from './usage/usage.routes.ts';
import { registerWebhookRoutes } from './webhooks/webhooks.routes.ts';

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
  /** Resolves bearer credentials (for routes that also accept other credentials). */
  authenticator: Authenticator;
  /** The node's shared LISTEN connection (caches that NOTIFY invalidates). */
  listener: Listener;
  /** Where browsers reach Landlord: `LANDLORD_PUBLIC_URL`, or the address this node listens on. */
  baseUrl: () => string;
  /** The node's Prometheus registry (`/metrics`), for features' own counters. */
  metrics?: Registry;
  /** Wakes every node's event sequencer soon, after a write that recorded events without a NOTIFY (`nudge.ts`). */
  nudgeSequencer: SequencerNudge;
  /** This node's background components and their states (the console's system page). */
  componentStates?: () => Record<string, string>;
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
  registerHealthRoutes(app, db, { clock, box, http: services.http, nodeId: services.nodeId });
  registerEventRoutes(app, db);
  registerWebhookRoutes(app, db, { box, clock });
  await registerRosaasRoutes(app, db, { clock, keyRing: services.keyRing });
  const verifier = await createConnectionVerifier({ db, listener: services.listener });
  registerRoleRoutes(app, db, { clock });
  await registerPeopleRoutes(app, db, { clock, authenticator: services.authenticator, verifier });
  registerConnectionRoutes(app, db, { clock, verifier, authenticator: services.authenticator });
  registerLoginLinkRoutes(app, db, {
    clock,
    keyRing: services.keyRing,
    publicUrl: services.config.publicUrl,
    identity: identityDeps(services.config, clock, services.baseUrl),
  });
  registerResellerRoutes(app, db, { clock });
  await registerResellerApi(app, db, { clock, keyRing: services.keyRing, publicUrl: services.config.publicUrl });
  await registerIdentityRoutes(app, services);
  // commerce
  registerCommerceRoutes(app, services);
  // calls and billing
  registerPlanChangeRoutes(app, db, { clock });
  registerBillRoutes(app, db, { clock, nudgeSequencer: services.nudgeSequencer });
  // usage
  await registerUsageRoutes(app, db, { clock, listener: services.listener, authenticator: services.authenticator, verifier });
  // console
  await registerConsole(app, services);
  await registerPaymentRoutes(app, db, { clock, box });
  // marketplaces (maestrano)
  await registerMarketplaceFeature(app, services);
  // roomle
  await registerRoomleRoutes(app, db, {
    clock,
    box,
    http: services.http,
    keyRing: services.keyRing,
    authenticator: services.authenticator,
    verifier,
    issuer: services.baseUrl,
  });
}
