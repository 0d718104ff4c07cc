import { Type } from 'typebox';
import { readPublishedSpecifications } from '../catalogue/catalogue.read.ts';
import { rosaasSubscriptionOf } from '../commerce/rosaas-subscription.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { errors } from '../http/envelope.ts';
import { decodeCursor, toPage, UUID_KEY } from '../http/pagination.ts';
import { JsonObject } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { applyReport, type Report, takeAction } from '../tenants/lifecycle.service.ts';
import { onboardTenant } from '../tenants/onboarding.ts';
import { findTenants, type TenantRecord } from '../tenants/tenants.repo.ts';
import { getVisibleTenant, writeTenantMetadata } from '../tenants/tenants.service.ts';
import type { LifecycleDeps } from '../tenants/transitions.ts';
import type { Action, Status } from '../tenants/workflow.ts';
import { NameParams, RosaasCreateTenant, RosaasDone, RosaasTenant, rosaasDone, rosaasEnvelope, rosaasOk } from './rosaas.schemas.ts';
import { isActive, ROSAAS_STATUS, toRosaasTenant } from './rosaas.views.ts';

const tags = ['RoSaaS compatibility'];
const BASE = '/api/management/apps/v1/tenants';
const done = { 200: RosaasDone, ...errors(400, 401, 403, 409, 413, 429) };

/** The RoSaaS External System API for tenants: create, request steps, read, report outcomes, metadata. */
export function registerRosaasTenantRoutes(app: HttpApp, db: Db, deps: LifecycleDeps): void {
  const view = async (record: TenantRecord) => toRosaasTenant(record, await readPublishedSpecifications(db, record.product_id));

  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: 'Create tenant',
        body: RosaasCreateTenant,
        response: {
          201: rosaasEnvelope(Type.Object({ id: Type.String(), tenantSystemName: Type.String(), navigationUrl: Type.Null() })),
          ...errors(400, 401, 403, 409, 413, 429),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (!caller.principal.productId) {
        throw new AppError('request.invalid', {
          message: 'Create tenants with a credential of the product (a product client)',
          parameter: 'tenantSystemName',
        });
      }
      const body = request.body;
      const record = await db.transaction().execute((tx) =>
        onboardTenant(tx, deps, caller, {
          name: body.tenantSystemName.toLowerCase(),
          displayName: body.tenantDisplayName,
          plan: body.planPriceSystemName ?? undefined,
          specifications: Object.fromEntries((body.specifications ?? []).map((spec) => [spec.systemName, spec.value])),
        }),
      );
      // No payment step applies to a tenant created through the API, so there is nowhere to navigate.
      return reply.code(201).send(rosaasOk({ id: record.id, tenantSystemName: record.name, navigationUrl: null }));
    },
  );

  app.get(
    BASE,
    {
      schema: {
        tags,
        summary: 'Get all tenants',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(RosaasTenant),
            metadata: Type.Object({
              errors: Type.Array(Type.Unknown()),
              success: Type.Boolean(),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
          }),
          ...errors(400, 401, 429),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const limit = request.query.limit ?? 1000;
      const rows = await findTenants(
        db,
        { productId: principal.productId ?? undefined, afterId: decodeCursor(request.query.cursor, UUID_KEY) },
        limit,
      );
      const page = toPage(rows, limit, (row) => row.id);
      const specsByProduct = new Map<string, Awaited<ReturnType<typeof readPublishedSpecifications>>>();
      const data = [];
      for (const record of page.items) {
        if (!specsByProduct.has(record.product_id))
          specsByProduct.set(record.product_id, await readPublishedSpecifications(db, record.product_id));
        data.push(toRosaasTenant(record, specsByProduct.get(record.product_id) ?? []));
      }
      return { data, metadata: { errors: [], success: true, nextCursor: page.nextCursor } };
    },
  );

  app.get(
    `${BASE}/:name`,
    {
      schema: {
        tags,
        summary: 'Get tenant',
        params: NameParams,
        description: 'With `subscription`: the plan, status and current period of the tenant’s live (or latest) subscription.',
        response: { 200: rosaasEnvelope(RosaasTenant), ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const record = await getVisibleTenant(db, principalOf(request), request.params.name);
      // commerce: the subscription's plan and period
      return rosaasOk({ ...(await view(record)), subscription: await rosaasSubscriptionOf(db, record.id) });
    },
  );

  app.get(
    `${BASE}/:name/status`,
    {
      schema: {
        tags,
        summary: "Get tenant's status",
        params: NameParams,
        response: { 200: rosaasEnvelope(Type.Object({ isActive: Type.Boolean(), status: Type.Integer() })), ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const record = await getVisibleTenant(db, principalOf(request), request.params.name);
      const status = record.status as Status;
      return rosaasOk({ isActive: isActive(status), status: ROSAAS_STATUS[status] });
    },
  );

  // Requests for a step: the backend asks Landlord to start creation, activation or deactivation.
  const requests: [string, Action, string][] = [
    ['', 'send_creation_request', 'Send creation request'],
    ['/ActivationRequest', 'activate', 'Send activation request'],
    ['/DeactivationRequest', 'deactivate', 'Send deactivation request'],
  ];
  for (const [suffix, action, summary] of requests) {
    app.post(`${BASE}/:name${suffix}`, { schema: { tags, summary, params: NameParams, response: done } }, async (request) => {
      await db.transaction().execute((tx) => takeAction(tx, deps, callerOf(request), request.params.name, action));
      return rosaasDone();
    });
  }

  // Reports: the backend tells Landlord how a step ended.
  const reports: [string, Report][] = [
    ['created', 'created'],
    ['active', 'active'],
    ['inactive', 'inactive'],
    ['deleted', 'deleted'],
    ['failure', 'failure'],
  ];
  for (const [path, report] of reports) {
    app.post(
      `${BASE}/:name/${path}`,
      { schema: { tags, summary: `Set the tenant as ${report}`, params: NameParams, body: Type.Optional(Type.Unknown()), response: done } },
      async (request) => {
        await db.transaction().execute((tx) => applyReport(tx, deps, callerOf(request), request.params.name, report, request.body));
        return rosaasDone();
      },
    );
  }

  app.post(
    `${BASE}/:name/metadata`,
    { schema: { tags, summary: "Upsert tenant's metadata (replaces it)", params: NameParams, body: JsonObject, response: done } },
    async (request) => {
      await db
        .transaction()
        .execute((tx) => writeTenantMetadata(tx, deps, callerOf(request), request.params.name, request.body, { merge: false }));
      return rosaasDone();
    },
  );

  app.get(
    `${BASE}/:name/metadata`,
    {
      schema: {
        tags,
        summary: "Get tenant's metadata",
        params: NameParams,
        response: { 200: rosaasEnvelope(JsonObject), ...errors(400, 401, 429) },
      },
    },
    async (request) => rosaasOk((await getVisibleTenant(db, principalOf(request), request.params.name)).metadata),
  );
}
