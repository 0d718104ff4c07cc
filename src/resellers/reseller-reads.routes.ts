import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { listConnections, toConnectionView } from '../connections/connections.service.ts';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import type { HttpApp } from '../http/types.ts';
import { listMemberships } from '../people/memberships.service.ts';
import { listResellerTenants, ownedTenant, toResellerTenantView, toResellerUser } from './reseller-tenants.service.ts';
import { CodeNameParams, failures, ResellerConnection, ResellerTenant, ResellerUser } from './resellers.schemas.ts';

const tags = ['Reseller API'];
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `X-Next-Cursor` header of the previous page' })),
  },
  { additionalProperties: false },
);

// Lists stay plain JSON arrays, as Sharespine's are; the next page is announced in a header.
function paged<T>(reply: FastifyReply, page: { items: T[]; nextCursor: string | null }): T[] {
  if (page.nextCursor) reply.header('x-next-cursor', page.nextCursor);
  return page.items;
}

/** The reads a reseller needs: its tenants, one tenant with its status, a tenant's users and connections. */
export function registerResellerReads(app: HttpApp, db: Db): void {
  app.get(
    '/tenant',
    {
      schema: {
        tags,
        summary: 'List your tenants',
        description: 'Only the tenants this reseller created, oldest first. More pages: `X-Next-Cursor`.',
        querystring: ListQuery,
        response: { 200: Type.Array(ResellerTenant), ...failures(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const page = await listResellerTenants(db, callerOf(request), request.query.cursor, request.query.limit ?? 100);
      return paged(reply, { items: page.items.map(toResellerTenantView), nextCursor: page.nextCursor });
    },
  );

  app.get(
    '/tenant/:codeName',
    {
      schema: {
        tags,
        summary: 'Get tenant (with its status)',
        params: CodeNameParams,
        response: { 200: ResellerTenant, ...failures(401, 404, 429) },
      },
    },
    async (request) => toResellerTenantView(await ownedTenant(db, callerOf(request), request.params.codeName)),
  );

  app.get(
    '/tenant/:codeName/user',
    {
      schema: {
        tags,
        summary: 'List tenant users',
        params: CodeNameParams,
        querystring: ListQuery,
        response: { 200: Type.Array(ResellerUser), ...failures(400, 401, 404, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const tenant = await ownedTenant(db, caller, request.params.codeName);
      const page = await listMemberships(db, caller, tenant.id, request.query.cursor, request.query.limit ?? 100);
      return paged(reply, { items: page.items.map(toResellerUser), nextCursor: page.nextCursor });
    },
  );

  app.get(
    '/tenant/:codeName/connection',
    {
      schema: {
        tags,
        summary: 'List API connections',
        description: 'Secrets are never shown.',
        params: CodeNameParams,
        querystring: ListQuery,
        response: { 200: Type.Array(ResellerConnection), ...failures(400, 401, 404, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const tenant = await ownedTenant(db, caller, request.params.codeName);
      const page = await listConnections(db, caller, tenant.id, request.query.cursor, request.query.limit ?? 100);
      return paged(reply, { items: page.items.map(toConnectionView), nextCursor: page.nextCursor });
    },
  );
}
