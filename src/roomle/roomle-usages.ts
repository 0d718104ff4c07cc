import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { Nullable } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { listUsage } from '../usage/usage.service.ts';
import { IdParams, roomleErrors, roomleTags as tags, wrapped } from './roomle.schemas.ts';
import { nativeCaller, roomleCallerOf } from './roomle-auth.ts';
import { roomleOk } from './roomle-http.ts';
import { resolveTenant } from './roomle-tenants.service.ts';

const Instant = Type.String({ format: 'date-time' });
const Usage = Type.Object({
  id: Type.String({ description: '<feature>@<window start>: the SDK caches objects by id' }),
  feature: Type.String(),
  from: Instant,
  to: Nullable(Instant),
  used: Type.Integer({ description: 'Events and adjustments' }),
  events: Type.Integer(),
  adjusted: Type.Integer(),
});
const UsageQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting at or after' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting before' })),
    feature: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

// Roomle's product data: the tenant API names them, Landlord does not keep them.
const NOT_MANAGED = [
  'catalogs',
  'visibleCatalogs',
  'shownCatalogs',
  'enabledTags',
  'assetProcessings',
  'configurators',
  'catalogConnections',
  'plans',
];

/** `GET /v2/tenants/{id}/usages/` over the usage service, and 501 for Roomle's own product data. */
export function registerRoomleUsageRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.get(
    '/v2/tenants/:id/usages',
    {
      schema: {
        tags,
        summary: 'The tenant’s usages',
        description: 'tenant_payment rights. Usage per plan feature and window (the usage service’s totals), oldest first.',
        params: IdParams,
        querystring: UsageQuery,
        response: { 200: wrapped('usages', Type.Array(Usage)), ...roomleErrors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const tenant = await resolveTenant(db, who, request.params.id, 'tenant_payment');
      const windows = await listUsage(db, nativeCaller(who, tenant.product_id).principal, tenant.id, request.query);
      const usages = windows.map((window) => ({
        id: `${window.feature}@${window.windowStart}`,
        feature: window.feature,
        from: window.windowStart,
        to: window.windowEnd,
        used: window.used,
        events: window.events,
        adjusted: window.adjusted,
      }));
      return roomleOk(deps.clock, 'usages', usages, usages.length);
    },
  );

  for (const name of NOT_MANAGED) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE'],
      url: `/v2/tenants/:id/${name}`,
      schema: {
        tags,
        summary: `${name} (not managed by Landlord)`,
        description: 'Roomle’s own product data, not tenancy: answers 501 saying Landlord does not manage it.',
        params: IdParams,
        response: roomleErrors(401, 404, 429, 501),
      },
      handler: async (request) => {
        await resolveTenant(db, roomleCallerOf(request), (request.params as { id: string }).id);
        throw new AppError('roomle.not_managed', {
          message: `Landlord does not manage Roomle's ${name}: catalogs, configurators, asset processings and tags are Roomle product data, not tenancy`,
        });
      },
    });
  }
}
