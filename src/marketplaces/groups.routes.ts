import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Authenticator } from '../access/authenticator.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Group, GroupCreate, GroupUser, GroupUserCreate } from './groups.schemas.ts';
import { addGroupUser, createGroup, deleteGroup, removeGroupUser } from './groups.service.ts';
import { authenticateMarketplace, marketplacePrincipal } from './marketplaces.service.ts';

const tags = ['Marketplaces'];
const WHO = 'Super admins, the admins of the marketplace’s product, and the marketplace itself (HTTP Basic `api.id:api.key`).';
const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const MarketplaceParams = Type.Object({ marketplace: Ref('Marketplace id or name') });
const GroupParams = Type.Object({ marketplace: Ref('Marketplace id or name'), group: Ref('Group uid (`cld-4`)') });
const GroupUserParams = Type.Object({
  marketplace: Ref('Marketplace id or name'),
  group: Ref('Group uid (`cld-4`)'),
  user: Ref('User uid (`usr-2`)'),
});

/** `/v1/marketplaces/{marketplace}/groups…`: the customer groups a marketplace sells to, and their users. */
export function registerGroupRoutes(app: HttpApp, db: Db, deps: { clock: Clock; authenticator: Authenticator }): void {
  // Operators' bearer credentials as everywhere, or the marketplace's own `api.id:api.key` (HTTP Basic).
  const auth = {
    config: { public: true, throttled: true },
    onRequest: async (request: FastifyRequest) => {
      if (/^Basic\s/i.test(request.headers.authorization ?? '')) {
        const marketplace = await authenticateMarketplace(db, request.headers.authorization);
        if (!marketplace) throw new AppError('auth.invalid_credential');
        request.principal = marketplacePrincipal(marketplace);
      } else request.principal = await deps.authenticator.authenticate(request.headers.authorization);
    },
  };

  app.post(
    '/v1/marketplaces/:marketplace/groups',
    {
      ...auth,
      schema: {
        tags,
        summary: 'Create a group',
        description: `${WHO} The group is a tenant named after its uid, onboarded like any tenant (its creation call to the product's backend).`,
        params: MarketplaceParams,
        body: GroupCreate,
        response: { 201: envelope(Group), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createGroup(tx, deps, callerOf(request), request.params.marketplace, request.body));
      return reply.code(201).send(ok(view));
    },
  );

  app.delete(
    '/v1/marketplaces/:marketplace/groups/:group',
    {
      ...auth,
      schema: {
        tags,
        summary: 'Delete a group (the customer cancelled)',
        description: `${WHO} Deletes the tenant through its lifecycle, cancels its subscription and sends the app one \`DELETE {group_path}\`.`,
        params: GroupParams,
        response: { 200: envelope(Group), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) =>
      ok(
        await db.transaction().execute((tx) => deleteGroup(tx, deps, callerOf(request), request.params.marketplace, request.params.group)),
      ),
  );

  app.post(
    '/v1/marketplaces/:marketplace/groups/:group/users',
    {
      ...auth,
      schema: {
        tags,
        summary: 'Add a user to a group',
        description: `${WHO} The Maestrano role is mapped to the product role the marketplace names.`,
        params: GroupParams,
        body: GroupUserCreate,
        response: { 201: envelope(GroupUser), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => addGroupUser(tx, deps, callerOf(request), request.params.marketplace, request.params.group, request.body));
      return reply.code(201).send(ok(view));
    },
  );

  app.delete(
    '/v1/marketplaces/:marketplace/groups/:group/users/:user',
    {
      ...auth,
      schema: {
        tags,
        summary: 'Remove a user from a group',
        description: `${WHO} Sends the app one \`DELETE {group_user_path}\`.`,
        params: GroupUserParams,
        response: { 200: envelope(GroupUser), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) =>
      ok(
        await db
          .transaction()
          .execute((tx) =>
            removeGroupUser(tx, deps, callerOf(request), request.params.marketplace, request.params.group, request.params.user),
          ),
      ),
  );
}
