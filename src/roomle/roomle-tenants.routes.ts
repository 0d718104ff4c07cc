import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import {
  IdParams,
  RoomleTenant,
  RoomleTenantCreate,
  RoomleTenantUpdate,
  roomleErrors,
  roomleTags as tags,
  wrapped,
} from './roomle.schemas.ts';
import { roomleCallerOf } from './roomle-auth.ts';
import { roomleOk } from './roomle-http.ts';
import { findRoomleTenants } from './roomle-tenants.repo.ts';
import { createRoomleTenant, type RoomleDeps, resolveTenant, roomleTenantView, updateRoomleTenant } from './roomle-tenants.service.ts';

const MANAGER = 'tenant_management';

/** `/v2/tenants`: create, read (by number or `me`), update; delete answers 405. */
export function registerRoomleTenantRoutes(app: HttpApp, db: Db, deps: RoomleDeps & { clock: Clock }): void {
  app.post(
    '/v2/tenants',
    {
      schema: {
        tags,
        summary: 'Create a tenant',
        description:
          'Super admin (an operator key). The name is unique across the installation. The tenant goes through the lifecycle like any other; the answer carries its `apiKey`.',
        body: RoomleTenantCreate,
        response: { 201: wrapped('tenant', RoomleTenant), ...roomleErrors(400, 401, 403, 404, 409, 422, 429) },
      },
    },
    async (request, reply) => {
      const who = roomleCallerOf(request);
      const row = await db.transaction().execute((tx) => createRoomleTenant(tx, deps, who, request.body));
      return reply.code(201).send(roomleOk(deps.clock, 'tenant', roomleTenantView(row, true, deps.box)));
    },
  );

  app.get(
    '/v2/tenants',
    {
      schema: {
        tags,
        summary: 'List tenants',
        description:
          'Operators: the tenants of the products serving the Roomle API (their own product’s for a product admin), by number, `limit` (≤ 500) after `after`. A user or an apiKey: its current tenant.',
        querystring: Type.Object(
          { after: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: wrapped('tenants', Type.Array(RoomleTenant)), ...roomleErrors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const manager = who.rights.has(MANAGER);
      const rows =
        who.via === 'operator'
          ? await findRoomleTenants(db, who.productId, request.query.after ?? 0, request.query.limit ?? 100)
          : [await resolveTenant(db, who, 'me')];
      const tenants = rows.map((row) => roomleTenantView(row, manager, deps.box));
      return roomleOk(deps.clock, 'tenants', tenants, tenants.length);
    },
  );

  app.get(
    '/v2/tenants/me',
    {
      schema: {
        tags,
        summary: 'The current tenant',
        description: 'The tenant of the user’s token or of the apiKey. `webhook` and `apiKey` only with tenant management rights.',
        response: { 200: wrapped('tenant', RoomleTenant), ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const row = await resolveTenant(db, who, 'me');
      return roomleOk(deps.clock, 'tenant', roomleTenantView(row, who.rights.has(MANAGER), deps.box));
    },
  );

  app.get(
    '/v2/tenants/:id',
    {
      schema: {
        tags,
        summary: 'Read a tenant',
        description: 'A tenant the caller has a link to (else 404). `webhook` and `apiKey` only with tenant management rights.',
        params: IdParams,
        response: { 200: wrapped('tenant', RoomleTenant), ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const row = await resolveTenant(db, who, request.params.id);
      return roomleOk(deps.clock, 'tenant', roomleTenantView(row, who.rights.has(MANAGER), deps.box));
    },
  );

  app.put(
    '/v2/tenants/:id',
    {
      schema: {
        tags,
        summary: 'Update the current tenant',
        description:
          'Tenant management rights, current tenant only. `active` deactivates or activates through the lifecycle; a new `webhook` URL replaces the tenant’s endpoint and its secret is answered once (`webhookSecret`); an `apiKey` other than the current one rotates it. Read-only fields sent back unchanged are ignored.',
        params: IdParams,
        body: RoomleTenantUpdate,
        response: { 200: wrapped('tenant', RoomleTenant), ...roomleErrors(400, 401, 403, 404, 409, 422, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const { row, webhookSecret } = await db
        .transaction()
        .execute((tx) => updateRoomleTenant(tx, deps, who, request.params.id, request.body));
      const view = roomleTenantView(row, true, deps.box);
      return roomleOk(deps.clock, 'tenant', webhookSecret ? { ...view, webhookSecret } : view);
    },
  );

  app.delete(
    '/v2/tenants/:id',
    {
      schema: {
        tags,
        summary: 'Delete a tenant (not possible)',
        description:
          'As Roomle documents: deleting a tenant through this API is not possible. Operators delete tenants with the native API.',
        params: IdParams,
        response: roomleErrors(401, 404, 405, 429),
      },
    },
    async (request) => {
      await resolveTenant(db, roomleCallerOf(request), request.params.id);
      throw new AppError('roomle.delete_not_supported', { headers: { allow: 'GET, PUT' } });
    },
  );
}
