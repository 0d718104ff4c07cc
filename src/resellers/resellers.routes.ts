import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { PageQuery } from '../http/pagination.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Reseller, ResellerCreate, ResellerWithPassword } from './resellers.schemas.ts';
import { createReseller, getReseller, listResellers, revokeReseller, toResellerView } from './resellers.service.ts';

const tags = ['Resellers'];
const WHO = 'Super admins, and the admins of the reseller’s product.';
const ResellerParams = RefParam('reseller', 'Reseller id or code');

/** `/v1/resellers`: the channels that onboard and manage their own customers' tenants through `/reseller`. */
export function registerResellerRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/resellers',
    {
      schema: {
        tags,
        summary: 'Create a reseller',
        description: `${WHO} The answer is the only one that shows \`password\`. The reseller calls \`/reseller/…\` with HTTP Basic \`username:password\` and \`X-Reseller: <code>\`; its tenants belong to \`product\` and it sees only those it created.`,
        body: ResellerCreate,
        response: { 201: envelope(ResellerWithPassword), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const created = await db.transaction().execute((tx) => createReseller(tx, deps.clock, callerOf(request), request.body));
      return reply.code(201).send(ok(created));
    },
  );

  app.get(
    '/v1/resellers',
    {
      schema: {
        tags,
        summary: 'List resellers',
        description: `${WHO} A product admin sees its product’s resellers only.`,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Reseller), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listResellers(db, principalOf(request), request.query.cursor, limit);
      return okPage(page.items.map(toResellerView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/resellers/:reseller',
    {
      schema: {
        tags,
        summary: 'Get a reseller',
        description: WHO,
        params: ResellerParams,
        response: { 200: envelope(Reseller), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(toResellerView(await getReseller(db, principalOf(request), request.params.reseller))),
  );

  app.delete(
    '/v1/resellers/:reseller',
    {
      schema: {
        tags,
        summary: 'Revoke a reseller',
        description: `${WHO} Its credentials stop working at once; the tenants it created stay as they are.`,
        params: ResellerParams,
        response: { 200: envelope(Reseller), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(await db.transaction().execute((tx) => revokeReseller(tx, deps.clock, callerOf(request), request.params.reseller))),
  );
}
