import type { Db } from '../db/database.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { registerPromoCodeRoutes } from '../promo-codes/promo-codes.routes.ts';
import type { RoomleAuthDeps } from './roomle-auth.ts';
import { registerRoomleBillingRoutes } from './roomle-billing.ts';
import { installRoomleScope } from './roomle-http.ts';
import { registerRoomlePeopleRoutes } from './roomle-people.ts';
import { registerRoomlePromocodeRoutes } from './roomle-promocode.ts';
import { registerRoomleSettingsRoutes } from './roomle-settings.ts';
import { registerRoomleTenantRoutes } from './roomle-tenants.routes.ts';
import { registerRoomleUsageRoutes } from './roomle-usages.ts';

/** What the Roomle API needs. */
export interface RoomleRouteDeps extends RoomleAuthDeps {
  clock: Clock;
  box: SecretBox;
}

/**
 * Roomle's tenant API (`/v2/tenants`, issue #14, ADR 0013) as a thin adapter over the
 * native tenants, people, subscriptions, usage and webhooks, in its own scope (its own
 * credentials and error shape); and the native routes that set it up per product.
 */
export async function registerRoomleRoutes(app: HttpApp, db: Db, deps: RoomleRouteDeps): Promise<void> {
  registerRoomleSettingsRoutes(app, db, deps);
  registerPromoCodeRoutes(app, db, deps);
  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp;
    installRoomleScope(scope, deps);
    registerRoomleTenantRoutes(scope, db, deps);
    registerRoomlePeopleRoutes(scope, db, deps);
    registerRoomleBillingRoutes(scope, db, deps);
    registerRoomleUsageRoutes(scope, db, deps);
    registerRoomlePromocodeRoutes(scope, db, deps);
  });
}
