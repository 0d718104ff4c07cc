import type { Db } from '../db/database.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { registerFeatureRoutes } from './features.routes.ts';
import { registerPlanFeatureRoutes } from './plan-features.routes.ts';
import { registerPlanRoutes } from './plans.routes.ts';
import { registerPriceRoutes } from './prices.routes.ts';
import { registerSpecificationRoutes } from './specifications.routes.ts';

/**
 * The product catalogue under `/v1/products/{product}`: plans, their prices and features,
 * the features themselves, and the specifications asked of tenants. Super admins and the
 * product's admins read and write; the product's clients read, create, change and
 * publish, but do not delete; anyone else gets 404 for the product.
 */
export function registerCatalogueRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  registerPlanRoutes(app, db, deps);
  registerPriceRoutes(app, db, deps);
  registerFeatureRoutes(app, db, deps);
  registerPlanFeatureRoutes(app, db, deps);
  registerSpecificationRoutes(app, db, deps);
}
