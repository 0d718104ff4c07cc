import { registerAuditPage } from './pages/audit.ts';
import { registerEventPages } from './pages/events.ts';
import { registerOperatorPages } from './pages/operators.ts';
import { registerOverviewPage } from './pages/overview.ts';
import { registerProductPages } from './pages/products.ts';
import { registerSystemPage } from './pages/system.ts';
import { registerTenantHealthActions } from './pages/tenant-health.ts';
import { registerTenantPeopleActions } from './pages/tenant-people.ts';
import { registerTenantPages } from './pages/tenants.ts';
import { registerWebhookPages } from './pages/webhooks.ts';
import type { ConsoleRouter } from './router.ts';

/**
 * Every console feature, each a function that registers its pages and actions on the
 * router. A new feature (subscriptions, invoices, usage) is one file in `pages/` and one
 * line here, plus a line in `NAV` (layout.ts) when it has a top-level page.
 */
export const CONSOLE_FEATURES: ReadonlyArray<(router: ConsoleRouter) => void> = [
  registerOverviewPage,
  registerProductPages,
  registerTenantPages,
  registerTenantPeopleActions,
  registerTenantHealthActions,
  registerEventPages,
  registerWebhookPages,
  registerAuditPage,
  registerOperatorPages,
  registerSystemPage,
];
