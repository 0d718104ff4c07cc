import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Group, GroupCreate, GroupUser, GroupUserCreate } from './groups.schemas.ts';
import { addGroupUser, createGroup, deleteGroup, removeGroupUser } from './groups.service.ts';

const tags = ['Marketplaces'];
const WHO = 'Super admins and the admins of the marketplace’s product.';
const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });
const MarketplaceParams = Type.Object({ marketplace: Ref('Marketplace id or name') });
const GroupParams = Type.Object({ marketplace: Ref('Marketplace id or name'), group: Ref('Group uid (`cld-4`)') });
const GroupUserParams = Type.Object({
  marketplace: Ref('Marketplace id or name'),
  group: Ref('Group uid (`cld-4`)'),
  user: Ref('User uid (`usr-2`)'),
});

/** `/v1/marketplaces/{marketplace}/groups…`: the customer groups a marketplace sells to, and their users. */
export function registerGroupRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/marketplaces/:marketplace/groups',
    {
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
