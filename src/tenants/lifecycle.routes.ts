import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { setETag } from '../http/etag.ts';
import { decodeCursor, SERIAL_KEY, toPage } from '../http/pagination.ts';
import { RefParam, Timestamp } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { applyReport, REPORTS, takeAction } from './lifecycle.service.ts';
import { Tenant } from './tenants.schemas.ts';
import { getVisibleTenant, toTenantView } from './tenants.service.ts';
import { findTimeline } from './timeline.repo.ts';
import type { LifecycleDeps } from './transitions.ts';
import type { Action } from './workflow.ts';

const tags = ['Tenant lifecycle'];
const TenantParams = RefParam('tenant', 'Tenant id or name');
const ActionBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1000, description: "Kept in the tenant's history" })) },
  { additionalProperties: false },
);
const actionResponses = { 200: envelope(Tenant), ...errors(400, 401, 403, 404, 409, 413, 429) };

/** The operator actions, each a path of its own: `POST /v1/tenants/{tenant}/<path>`. */
const ACTION_ROUTES: { path: string; action: Action; summary: string }[] = [
  { path: 'send-creation-request', action: 'send_creation_request', summary: 'Send the creation request to the backend' },
  { path: 'activate', action: 'activate', summary: 'Activate an inactive tenant' },
  { path: 'deactivate', action: 'deactivate', summary: 'Deactivate a live tenant' },
  { path: 'retry', action: 'retry', summary: 'Retry the step that failed' },
  { path: 'undo', action: 'undo', summary: 'Give up the failed step and return to the last stable status' },
];

const TimelineEntry = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  kind: Type.Enum(['transition', 'call', 'report', 'health']),
  action: Type.Union([Type.String(), Type.Null()]),
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Object({ type: Type.Union([Type.String(), Type.Null()]), id: Type.Union([Type.String(), Type.Null()]) }),
  detail: Type.Record(Type.String(), Type.Unknown(), {
    description: 'transition: reason, stepId; call: url, attempt, status, durationMs, responseBody (≤ 4 KiB), error, verdict; report: body',
  }),
});

/** Lifecycle actions on the native API, the backend's report endpoint, and the tenant's history. */
export function registerLifecycleRoutes(app: HttpApp, db: Db, deps: LifecycleDeps): void {
  for (const route of ACTION_ROUTES) {
    app.post(
      `/v1/tenants/:tenant/${route.path}`,
      { schema: { tags, summary: route.summary, params: TenantParams, body: Type.Optional(ActionBody), response: actionResponses } },
      async (request, reply) => {
        const record = await db
          .transaction()
          .execute((tx) => takeAction(tx, deps, callerOf(request), request.params.tenant, route.action, request.body?.reason));
        setETag(reply, record);
        return ok(toTenantView(record, principalOf(request)));
      },
    );
  }

  app.delete(
    '/v1/tenants/:tenant',
    {
      schema: {
        tags,
        summary: 'Delete a tenant',
        description: 'Starts the deletion step (an inactive or failed tenant); a record never sent to the backend is deleted at once.',
        params: TenantParams,
        response: actionResponses,
      },
    },
    async (request, reply) => {
      const record = await db.transaction().execute((tx) => takeAction(tx, deps, callerOf(request), request.params.tenant, 'delete'));
      setETag(reply, record);
      return ok(toTenantView(record, principalOf(request)));
    },
  );

  app.post(
    '/v1/tenants/:tenant/report',
    {
      schema: {
        tags,
        summary: "The backend reports a step's outcome",
        description:
          'For the product backend: `created`, `active`, `inactive`, `deleted` or `failure` (with any JSON as `details`, kept as the reason). A repeated report is a harmless success (`applied: false`).',
        params: TenantParams,
        body: Type.Object(
          { status: Type.Enum(REPORTS), details: Type.Optional(Type.Unknown({ description: 'Any JSON; kept in the history' })) },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Type.Object({ tenant: Tenant, applied: Type.Boolean() })), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const { record, applied } = await db
        .transaction()
        .execute((tx) => applyReport(tx, deps, callerOf(request), request.params.tenant, request.body.status, request.body.details));
      setETag(reply, record);
      return ok({ tenant: toTenantView(record, principalOf(request)), applied });
    },
  );

  app.get(
    '/v1/tenants/:tenant/history',
    {
      schema: {
        tags,
        summary: "A tenant's status history and process timeline",
        description:
          'Every transition (actor, reason), every call to the backend (URL, status, duration, response) and every report, oldest first.',
        params: TenantParams,
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.Enum(['transition', 'call', 'report', 'health'])),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listEnvelope(TimelineEntry), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      const limit = request.query.limit ?? 100;
      const after = decodeCursor(request.query.cursor, SERIAL_KEY);
      const rows = await findTimeline(db, tenant.id, {
        kind: request.query.kind,
        afterId: after === undefined ? undefined : Number(after),
        limit,
      });
      const page = toPage(rows, limit, (row) => row.id);
      return okPage(
        page.items.map((row) => ({
          id: row.id,
          at: row.at.toISOString(),
          kind: row.kind,
          action: row.action,
          from: row.from_status,
          to: row.to_status,
          actor: { type: row.actor_type, id: row.actor_id },
          detail: row.detail,
        })),
        page.nextCursor,
        limit,
      );
    },
  );
}
