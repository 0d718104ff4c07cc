import type { HttpApp } from '../http/types.ts';
import type { Services } from '../routes.ts';
import { registerBillingRoutes } from './billing.routes.ts';
import { registerInvoiceRoutes } from './invoices.routes.ts';
import { registerCommerceListRoutes } from './lists.routes.ts';
import { renewalDeps } from './renewals.ts';
import { registerSubscriptionRoutes } from './subscriptions.routes.ts';

/** Every commerce route: billing settings and clocks, subscriptions, invoices. */
export function registerCommerceRoutes(app: HttpApp, services: Services): void {
  const { db, clock } = services;
  registerBillingRoutes(app, db, { clock, renewals: renewalDeps(services) });
  registerSubscriptionRoutes(app, db, { clock });
  registerInvoiceRoutes(app, db, { clock });
  registerCommerceListRoutes(app, db, { clock });
}
