import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { Deleted, RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Permission, PermissionCreate, Role, RoleCreate } from './people.schemas.ts';
import { createPermission, createRole, deletePermission, listPermissions, listRoles, toPermissionView } from './roles.service.ts';

const tags = ['People'];
const ProductParams = RefParam('product', 'Product id or system name');
const PermissionParams = Type.Object({
  ...ProductParams.properties,
  permission: Type.String({ minLength: 1, maxLength: 200, description: 'Permission name' }),
});

/** `/v1/products/{product}/permissions` and `/roles`: what a product's users and connections can be granted. */
export function registerRoleRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.get(
    '/v1/products/:product/permissions',
    {
      schema: {
        tags,
        summary: 'List the permissions a product defines',
        description: 'The catalogue every grant is checked against: a permission not listed here is a 400 wherever it is granted.',
        params: ProductParams,
        response: { 200: envelope(Type.Array(Permission)), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok((await listPermissions(db, principalOf(request), request.params.product)).map(toPermissionView)),
  );

  app.post(
    '/v1/products/:product/permissions',
    {
      schema: {
        tags,
        summary: 'Define a permission',
        description: 'Operators and the product’s clients, e.g. Roomle’s `tenant_management`, `user_management`, `tenant_payment`.',
        params: ProductParams,
        body: PermissionCreate,
        response: { 201: envelope(Permission), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => createPermission(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(toPermissionView(row)));
    },
  );

  app.delete(
    '/v1/products/:product/permissions/:permission',
    {
      schema: {
        tags,
        summary: 'Remove a permission from the catalogue',
        description: 'Operators only; refused (409) while a role, a user or a connection holds it.',
        params: PermissionParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const { product, permission } = request.params;
      await db.transaction().execute((tx) => deletePermission(tx, callerOf(request), product, permission));
      return ok({ id: permission, deleted: true });
    },
  );

  app.get(
    '/v1/products/:product/roles',
    {
      schema: {
        tags,
        summary: 'List a product’s roles',
        description:
          'The built-ins first — `owner` and `admin` give every permission the product defines (now and later), `member` none — then the roles the product defined.',
        params: ProductParams,
        response: { 200: envelope(Type.Array(Role)), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(await listRoles(db, principalOf(request), request.params.product)),
  );

  app.post(
    '/v1/products/:product/roles',
    {
      schema: {
        tags,
        summary: 'Define a role',
        description:
          'Operators and the product’s clients. A named set of the product’s permissions that every tenant of the product shares.',
        params: ProductParams,
        body: RoleCreate,
        response: { 201: envelope(Role), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createRole(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(view));
    },
  );
}
