import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { CatalogueParams, PublishableListQuery, catalogueTags as tags } from './catalogue.schemas.ts';
import type { CatalogueDeps } from './catalogue.shared.ts';
import { toSpecificationView } from './catalogue.views.ts';
import { Specification, SpecificationCreate, SpecificationUpdate } from './specifications.schemas.ts';
import {
  createSpecification,
  deleteSpecification,
  getSpecification,
  listSpecifications,
  setSpecificationPublished,
  updateSpecification,
} from './specifications.service.ts';

const ProductParams = CatalogueParams('product');
const SpecificationParams = CatalogueParams('product', 'specification');

/** `/v1/products/{product}/specifications`: the fields a product asks of every tenant. */
export function registerSpecificationRoutes(app: HttpApp, db: Db, deps: CatalogueDeps): void {
  app.post(
    '/v1/products/:product/specifications',
    {
      schema: {
        tags,
        summary: 'Create a specification',
        description:
          'Operators and the product’s clients. Tenants are asked for published specifications only. A pattern must compile and be safe from exponential backtracking.',
        params: ProductParams,
        body: SpecificationCreate,
        response: { 201: envelope(Specification), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => createSpecification(tx, deps, callerOf(request), request.params.product, request.body));
      setETag(reply, row);
      return reply.code(201).send(ok(toSpecificationView(row)));
    },
  );

  app.get(
    '/v1/products/:product/specifications',
    {
      schema: {
        tags,
        summary: 'List specifications',
        params: ProductParams,
        querystring: PublishableListQuery,
        response: { 200: listEnvelope(Specification), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listSpecifications(db, principalOf(request), request.params.product, { ...request.query, limit });
      return okPage(page.items.map(toSpecificationView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/specifications/:specification',
    {
      schema: {
        tags,
        summary: 'Get a specification',
        params: SpecificationParams,
        response: { 200: envelope(Specification), ...errors(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const row = await getSpecification(db, principalOf(request), request.params);
      setETag(reply, row);
      return ok(toSpecificationView(row));
    },
  );

  app.patch(
    '/v1/products/:product/specifications/:specification',
    {
      schema: {
        tags,
        summary: 'Change a specification',
        description:
          'A specification tenants have values for cannot be renamed (409). Publishing has its own endpoints. Honours `If-Match`.',
        params: SpecificationParams,
        body: SpecificationUpdate,
        response: { 200: envelope(Specification), ...errors(400, 401, 403, 404, 409, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => updateSpecification(tx, deps, callerOf(request), request.params, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(toSpecificationView(row));
    },
  );

  for (const [action, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    app.post(
      `/v1/products/:product/specifications/:specification/${action}`,
      {
        schema: {
          tags,
          summary: published ? 'Publish a specification' : 'Unpublish a specification',
          description: published
            ? 'Tenants are asked for it from now on. Honours `If-Match`.'
            : 'Tenants are no longer asked for it; values already given stay. Honours `If-Match`.',
          params: SpecificationParams,
          response: { 200: envelope(Specification), ...errors(401, 403, 404, 412, 422, 429) },
        },
      },
      async (request, reply) => {
        const row = await db
          .transaction()
          .execute((tx) => setSpecificationPublished(tx, deps, callerOf(request), request.params, published, ifMatchOf(request)));
        setETag(reply, row);
        return ok(toSpecificationView(row));
      },
    );
  }

  app.delete(
    '/v1/products/:product/specifications/:specification',
    {
      schema: {
        tags,
        summary: 'Delete a specification',
        description: 'Operators only; refused (409) while any tenant of the product has a value for it.',
        params: SpecificationParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 412, 429) },
      },
    },
    async (request) => {
      const id = await db.transaction().execute((tx) => deleteSpecification(tx, callerOf(request), request.params, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );
}
