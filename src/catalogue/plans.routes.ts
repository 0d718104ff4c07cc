import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { CatalogueParams, PublishableListQuery, catalogueTags as tags } from './catalogue.schemas.ts';
import type { CatalogueDeps } from './catalogue.shared.ts';
import { toPlanView } from './catalogue.views.ts';
import { Plan, PlanCreate, PlanUpdate } from './plans.schemas.ts';
import { createPlan, deletePlan, getPlan, listPlans, setPlanPublished, updatePlan } from './plans.service.ts';

const ProductParams = CatalogueParams('product');
const PlanParams = CatalogueParams('product', 'plan');

/** `/v1/products/{product}/plans`: what a product sells. */
export function registerPlanRoutes(app: HttpApp, db: Db, deps: CatalogueDeps): void {
  app.post(
    '/v1/products/:product/plans',
    {
      schema: {
        tags,
        summary: 'Create a plan',
        description: 'Operators and the product’s clients. A plan is a draft until published.',
        params: ProductParams,
        body: PlanCreate,
        response: { 201: envelope(Plan), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute((tx) => createPlan(tx, deps, callerOf(request), request.params.product, request.body));
      setETag(reply, row);
      return reply.code(201).send(ok(toPlanView(row)));
    },
  );

  app.get(
    '/v1/products/:product/plans',
    {
      schema: {
        tags,
        summary: 'List plans',
        params: ProductParams,
        querystring: PublishableListQuery,
        response: { 200: listEnvelope(Plan), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listPlans(db, principalOf(request), request.params.product, { ...request.query, limit });
      return okPage(page.items.map(toPlanView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/plans/:plan',
    { schema: { tags, summary: 'Get a plan', params: PlanParams, response: { 200: envelope(Plan), ...errors(401, 404, 429) } } },
    async (request, reply) => {
      const row = await getPlan(db, principalOf(request), request.params.product, request.params.plan);
      setETag(reply, row);
      return ok(toPlanView(row));
    },
  );

  app.patch(
    '/v1/products/:product/plans/:plan',
    {
      schema: {
        tags,
        summary: 'Change a plan',
        description: 'Publishing has its own endpoints. Honours `If-Match`.',
        params: PlanParams,
        body: PlanUpdate,
        response: { 200: envelope(Plan), ...errors(400, 401, 403, 404, 409, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => updatePlan(tx, deps, callerOf(request), request.params, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(toPlanView(row));
    },
  );

  for (const [action, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    app.post(
      `/v1/products/:product/plans/:plan/${action}`,
      {
        schema: {
          tags,
          summary: published ? 'Publish a plan' : 'Unpublish a plan',
          description: published
            ? 'Offers the plan for sale (its published prices with it). Honours `If-Match`.'
            : 'Withdraws the plan from sale; tenants already on it keep it. Honours `If-Match`.',
          params: PlanParams,
          response: { 200: envelope(Plan), ...errors(401, 403, 404, 412, 422, 429) },
        },
      },
      async (request, reply) => {
        const row = await db
          .transaction()
          .execute((tx) => setPlanPublished(tx, deps, callerOf(request), request.params, published, ifMatchOf(request)));
        setETag(reply, row);
        return ok(toPlanView(row));
      },
    );
  }

  app.delete(
    '/v1/products/:product/plans/:plan',
    {
      schema: {
        tags,
        summary: 'Delete a plan',
        description:
          'Operators only. Deletes the plan’s prices and feature attachments too; refused (409) while tenants are on one of its prices.',
        params: PlanParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 409, 412, 429) },
      },
    },
    async (request) => {
      const id = await db.transaction().execute((tx) => deletePlan(tx, callerOf(request), request.params, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );
}
