import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { Marketplace, MarketplaceCreate, MarketplaceCreated } from './marketplaces.schemas.ts';
import { createMarketplace, listMarketplaces, requireMarketplace, toMarketplaceView } from './marketplaces.service.ts';

const tags = ['Marketplaces'];
const WHO = 'Super admins, and the admins of the product.';

/** `/v1/products/{product}/marketplaces` and `/v1/marketplaces/{marketplace}`: the marketplaces a product is sold through. */
export function registerMarketplaceRoutes(app: HttpApp, db: Db, deps: { clock: Clock; box: SecretBox }): void {
  app.post(
    '/v1/products/:product/marketplaces',
    {
      schema: {
        tags,
        summary: 'Create a marketplace',
        description: `${WHO} The answer is the only one that shows the environment's configuration secret; \`apiKey\` reaches the app again only through \`GET /api/config/v1/marketplaces\`.`,
        params: RefParam('product', 'Product id or name'),
        body: MarketplaceCreate,
        response: { 201: envelope(MarketplaceCreated), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const created = await db
        .transaction()
        .execute((tx) => createMarketplace(tx, deps, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(created));
    },
  );

  app.get(
    '/v1/products/:product/marketplaces',
    {
      schema: {
        tags,
        summary: 'List a product’s marketplaces',
        description: WHO,
        params: RefParam('product', 'Product id or name'),
        response: { 200: envelope(Type.Array(Marketplace)), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await listMarketplaces(db, principalOf(request), request.params.product)),
  );

  app.get(
    '/v1/marketplaces/:marketplace',
    {
      schema: {
        tags,
        summary: 'Get a marketplace',
        description: WHO,
        params: RefParam('marketplace', 'Marketplace id or name'),
        response: { 200: envelope(Marketplace), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(toMarketplaceView(await requireMarketplace(db, principalOf(request), request.params.marketplace))),
  );
}
