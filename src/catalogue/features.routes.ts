import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { CatalogueParams, ListQuery, catalogueTags as tags } from './catalogue.schemas.ts';
import type { CatalogueDeps } from './catalogue.shared.ts';
import { toFeatureView } from './catalogue.views.ts';
import { Feature, FeatureCreate, FeatureUpdate } from './features.schemas.ts';
import { createFeature, deleteFeature, getFeature, listFeatures, updateFeature } from './features.service.ts';

const ProductParams = CatalogueParams('product');
const FeatureParams = CatalogueParams('product', 'feature');

/** `/v1/products/{product}/features`: what plans can include, on/off or up to a limit. */
export function registerFeatureRoutes(app: HttpApp, db: Db, deps: CatalogueDeps): void {
  app.post(
    '/v1/products/:product/features',
    {
      schema: {
        tags,
        summary: 'Create a feature',
        description: 'Operators and the product’s clients. Attach it to plans under `/plans/{plan}/features`.',
        params: ProductParams,
        body: FeatureCreate,
        response: { 201: envelope(Feature), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute((tx) => createFeature(tx, deps, callerOf(request), request.params.product, request.body));
      setETag(reply, row);
      return reply.code(201).send(ok(toFeatureView(row)));
    },
  );

  app.get(
    '/v1/products/:product/features',
    {
      schema: {
        tags,
        summary: 'List features',
        params: ProductParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(Feature), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listFeatures(db, principalOf(request), request.params.product, { cursor: request.query.cursor, limit });
      return okPage(page.items.map(toFeatureView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/features/:feature',
    { schema: { tags, summary: 'Get a feature', params: FeatureParams, response: { 200: envelope(Feature), ...errors(401, 404, 429) } } },
    async (request, reply) => {
      const row = await getFeature(db, principalOf(request), request.params);
      setETag(reply, row);
      return ok(toFeatureView(row));
    },
  );

  app.patch(
    '/v1/products/:product/features/:feature',
    {
      schema: {
        tags,
        summary: 'Change a feature',
        description: 'The type can change only while no plan includes the feature (409). Honours `If-Match`.',
        params: FeatureParams,
        body: FeatureUpdate,
        response: { 200: envelope(Feature), ...errors(400, 401, 403, 404, 409, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => updateFeature(tx, deps, callerOf(request), request.params, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(toFeatureView(row));
    },
  );

  app.delete(
    '/v1/products/:product/features/:feature',
    {
      schema: {
        tags,
        summary: 'Delete a feature',
        description: 'Operators only; refused (409) while plans include the feature.',
        params: FeatureParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 412, 429) },
      },
    },
    async (request) => {
      const id = await db.transaction().execute((tx) => deleteFeature(tx, callerOf(request), request.params, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );
}
