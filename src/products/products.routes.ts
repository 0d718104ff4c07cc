import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { PageQuery } from '../http/pagination.ts';
import { Deleted, RefParam } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { Product, ProductCreate, ProductUpdate, ProductWarning } from './products.schemas.ts';
import {
  createProduct,
  deleteProduct,
  getVisibleProduct,
  listProducts,
  type ProductDeps,
  productWarnings,
  toProductView,
  updateProductSettings,
} from './products.service.ts';

const tags = ['Products'];
const ProductParams = RefParam('product', 'Product id or system name');

/** `/v1/products`: the products Landlord manages and their settings. */
export function registerProductRoutes(app: HttpApp, db: Db, deps: ProductDeps): void {
  app.post(
    '/v1/products',
    {
      schema: {
        tags,
        summary: 'Create a product',
        description: 'Super admins only. The response is the only one that shows the api key in full.',
        body: ProductCreate,
        response: { 201: envelope(Product), ...errors(400, 401, 403, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await db.transaction().execute((tx) => createProduct(tx, deps, callerOf(request), request.body));
      setETag(reply, { id: view.id, version: 1 });
      return reply.code(201).send(ok(view));
    },
  );

  app.get(
    '/v1/products',
    {
      schema: {
        tags,
        summary: 'List products',
        description: 'A credential scoped to a product sees only that product.',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Product), ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listProducts(db, principalOf(request), request.query.cursor, limit);
      return okPage(
        page.items.map((row) => toProductView(row, deps.box)),
        page.nextCursor,
        limit,
      );
    },
  );

  app.get(
    '/v1/products/:product',
    { schema: { tags, summary: 'Get a product', params: ProductParams, response: { 200: envelope(Product), ...errors(401, 404, 429) } } },
    async (request, reply) => {
      const row = await getVisibleProduct(db, principalOf(request), request.params.product);
      setETag(reply, row);
      return ok(toProductView(row, deps.box));
    },
  );

  app.patch(
    '/v1/products/:product',
    {
      schema: {
        tags,
        summary: 'Change a product',
        description: 'Nested objects (webhooks, healthCheck, provisioning) are merged; `null` clears a webhook URL. Honours `If-Match`.',
        params: ProductParams,
        body: ProductUpdate,
        response: { 200: envelope(Product), ...errors(400, 401, 403, 404, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const { view, row } = await db
        .transaction()
        .execute((tx) => updateProductSettings(tx, deps, callerOf(request), request.params.product, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(view);
    },
  );

  app.delete(
    '/v1/products/:product',
    {
      schema: {
        tags,
        summary: 'Delete a product',
        description: 'Super admins only; refused (409) while the product has tenants that are not deleted.',
        params: ProductParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 412, 429) },
      },
    },
    async (request) => {
      const id = await db
        .transaction()
        .execute((tx) => deleteProduct(tx, deps, callerOf(request), request.params.product, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );

  app.get(
    '/v1/products/:product/warnings',
    {
      schema: {
        tags,
        summary: 'What the product still lacks',
        description: 'Everything missing before the product is usable end to end: backend URLs, api key, a published plan, a client…',
        params: ProductParams,
        response: { 200: envelope(Type.Array(ProductWarning)), ...errors(401, 404, 429) },
      },
    },
    async (request) => {
      const row = await getVisibleProduct(db, principalOf(request), request.params.product);
      return ok(await productWarnings(db, row));
    },
  );
}
