import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { CatalogueParams, PublishableListQuery, catalogueTags as tags } from './catalogue.schemas.ts';
import type { CatalogueDeps } from './catalogue.shared.ts';
import { toPriceView } from './catalogue.views.ts';
import { Price, PriceCreate, PriceUpdate } from './prices.schemas.ts';
import { createPrice, deletePrice, getPrice, listPrices, setPricePublished, updatePrice } from './prices.service.ts';

const PlanParams = CatalogueParams('product', 'plan');
const PriceParams = CatalogueParams('product', 'plan', 'price');

/** `/v1/products/{product}/plans/{plan}/prices`: what a plan costs, per cycle and currency. */
export function registerPriceRoutes(app: HttpApp, db: Db, deps: CatalogueDeps): void {
  app.post(
    '/v1/products/:product/plans/:plan/prices',
    {
      schema: {
        tags,
        summary: 'Create a plan price',
        description: 'Operators and the product’s clients. The name is unique within the product; a price is a draft until published.',
        params: PlanParams,
        body: PriceCreate,
        response: { 201: envelope(Price), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute((tx) => createPrice(tx, deps, callerOf(request), request.params, request.body));
      setETag(reply, row);
      return reply.code(201).send(ok(toPriceView(row)));
    },
  );

  app.get(
    '/v1/products/:product/plans/:plan/prices',
    {
      schema: {
        tags,
        summary: 'List a plan’s prices',
        params: PlanParams,
        querystring: PublishableListQuery,
        response: { 200: listEnvelope(Price), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listPrices(db, principalOf(request), request.params, { ...request.query, limit });
      return okPage(page.items.map(toPriceView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/plans/:plan/prices/:price',
    { schema: { tags, summary: 'Get a plan price', params: PriceParams, response: { 200: envelope(Price), ...errors(401, 404, 429) } } },
    async (request, reply) => {
      const row = await getPrice(db, principalOf(request), request.params);
      setETag(reply, row);
      return ok(toPriceView(row));
    },
  );

  app.patch(
    '/v1/products/:product/plans/:plan/prices/:price',
    {
      schema: {
        tags,
        summary: 'Change a plan price',
        description: 'Leaving the custom cycle drops customDays. Publishing has its own endpoints. Honours `If-Match`.',
        params: PriceParams,
        body: PriceUpdate,
        response: { 200: envelope(Price), ...errors(400, 401, 403, 404, 409, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => updatePrice(tx, deps, callerOf(request), request.params, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(toPriceView(row));
    },
  );

  for (const [action, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    app.post(
      `/v1/products/:product/plans/:plan/prices/:price/${action}`,
      {
        schema: {
          tags,
          summary: published ? 'Publish a plan price' : 'Unpublish a plan price',
          description: published
            ? 'Offers the price for sale (when its plan is published too). Honours `If-Match`.'
            : 'Withdraws the price from sale; tenants already on it keep it. Honours `If-Match`.',
          params: PriceParams,
          response: { 200: envelope(Price), ...errors(401, 403, 404, 412, 422, 429) },
        },
      },
      async (request, reply) => {
        const row = await db
          .transaction()
          .execute((tx) => setPricePublished(tx, deps, callerOf(request), request.params, published, ifMatchOf(request)));
        setETag(reply, row);
        return ok(toPriceView(row));
      },
    );
  }

  app.delete(
    '/v1/products/:product/plans/:plan/prices/:price',
    {
      schema: {
        tags,
        summary: 'Delete a plan price',
        description: 'Operators only; refused (409) while tenants are on the price.',
        params: PriceParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 412, 429) },
      },
    },
    async (request) => {
      const id = await db.transaction().execute((tx) => deletePrice(tx, callerOf(request), request.params, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );
}
