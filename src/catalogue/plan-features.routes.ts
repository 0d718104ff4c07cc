import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { Deleted } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { CatalogueParams, ListQuery, catalogueTags as tags } from './catalogue.schemas.ts';
import type { CatalogueDeps } from './catalogue.shared.ts';
import { toPlanFeatureView } from './catalogue.views.ts';
import { PlanFeature, PlanFeatureAttach, PlanFeatureUpdate } from './plan-features.schemas.ts';
import { attachFeature, detachFeature, getPlanFeature, listPlanFeatures, updatePlanFeature } from './plan-features.service.ts';

const PlanParams = CatalogueParams('product', 'plan');
const AttachmentParams = CatalogueParams('product', 'plan', 'feature');

/** `/v1/products/{product}/plans/{plan}/features`: the features a plan includes, and up to what limit. */
export function registerPlanFeatureRoutes(app: HttpApp, db: Db, deps: CatalogueDeps): void {
  app.post(
    '/v1/products/:product/plans/:plan/features',
    {
      schema: {
        tags,
        summary: 'Include a feature in a plan',
        description: 'Operators and the product’s clients. `limit` null means unlimited; the unit defaults to the feature’s.',
        params: PlanParams,
        body: PlanFeatureAttach,
        response: { 201: envelope(PlanFeature), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const row = await db.transaction().execute((tx) => attachFeature(tx, deps, callerOf(request), request.params, request.body));
      setETag(reply, row);
      return reply.code(201).send(ok(toPlanFeatureView(row)));
    },
  );

  app.get(
    '/v1/products/:product/plans/:plan/features',
    {
      schema: {
        tags,
        summary: 'List the features of a plan',
        params: PlanParams,
        querystring: ListQuery,
        response: { 200: listEnvelope(PlanFeature), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listPlanFeatures(db, principalOf(request), request.params, { cursor: request.query.cursor, limit });
      return okPage(page.items.map(toPlanFeatureView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/plans/:plan/features/:feature',
    {
      schema: {
        tags,
        summary: 'Get a feature of a plan',
        params: AttachmentParams,
        response: { 200: envelope(PlanFeature), ...errors(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const row = await getPlanFeature(db, principalOf(request), request.params);
      setETag(reply, row);
      return ok(toPlanFeatureView(row));
    },
  );

  app.patch(
    '/v1/products/:product/plans/:plan/features/:feature',
    {
      schema: {
        tags,
        summary: 'Change a feature of a plan',
        description: 'Changes the limit, unit or reset period. Honours `If-Match`.',
        params: AttachmentParams,
        body: PlanFeatureUpdate,
        response: { 200: envelope(PlanFeature), ...errors(400, 401, 403, 404, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute((tx) => updatePlanFeature(tx, deps, callerOf(request), request.params, request.body, ifMatchOf(request)));
      setETag(reply, row);
      return ok(toPlanFeatureView(row));
    },
  );

  app.delete(
    '/v1/products/:product/plans/:plan/features/:feature',
    {
      schema: {
        tags,
        summary: 'Take a feature out of a plan',
        description: 'Operators only. The feature itself stays. Honours `If-Match`.',
        params: AttachmentParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 412, 429) },
      },
    },
    async (request) => {
      const id = await db.transaction().execute((tx) => detachFeature(tx, callerOf(request), request.params, ifMatchOf(request)));
      return ok({ id, deleted: true });
    },
  );
}
