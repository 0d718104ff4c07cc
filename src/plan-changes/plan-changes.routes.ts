import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { decodeCursor, PageQuery, UUID_KEY } from '../http/pagination.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { ChangeDeps } from './plan-changes.effects.ts';
import { reportChange } from './plan-changes.reports.ts';
import {
  ChangeParams,
  ChangePreview,
  ChangeReport,
  ChangeRequest,
  PlanChange,
  TenantParams,
  planChangeTags as tags,
} from './plan-changes.schemas.ts';
import { getChange, listChanges, previewChange, requestChange } from './plan-changes.service.ts';
import { changeView } from './plan-changes.view.ts';

const BASE = '/v1/tenants/:tenant/subscription/changes';

/** `/v1/tenants/{tenant}/subscription/changes`: ask for a plan change, preview it, read them, report one. */
export function registerPlanChangeRoutes(app: HttpApp, db: Db, deps: ChangeDeps): void {
  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: 'Change the plan of a subscription',
        description:
          "Operators and the product's clients. The change takes effect only once the product's backend confirms it (its `upgrade`, `downgrade` or `reset` URL is called with the change; the report, or a 2xx in response mode, applies it). An upgrade takes effect now, with proration; a downgrade or a change of cycle at the period's end. One change in flight per subscription (409).",
        params: TenantParams,
        body: ChangeRequest,
        response: { 201: envelope(PlanChange), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const change = await db.transaction().execute((tx) => requestChange(tx, deps, caller, request.params.tenant, request.body));
      return reply.code(201).send(ok(changeView(change)));
    },
  );

  app.post(
    `${BASE}/preview`,
    {
      schema: {
        tags,
        summary: 'Preview a plan change',
        description: 'What the change would be — direction, timing, proration lines — as of now; nothing is written.',
        params: TenantParams,
        body: ChangeRequest,
        response: { 200: envelope(ChangePreview), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request) => ok(await previewChange(db, deps, callerOf(request), request.params.tenant, request.body)),
  );

  app.get(
    BASE,
    {
      schema: {
        tags,
        summary: "List a subscription's plan changes",
        description: "The tenant's current (or latest) subscription's changes, newest first.",
        params: TenantParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(PlanChange), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listChanges(db, principalOf(request), request.params.tenant, decodeCursor(request.query.cursor, UUID_KEY), limit);
      return okPage(page.items.map(changeView), page.nextCursor, limit);
    },
  );

  app.get(
    `${BASE}/:change`,
    {
      schema: {
        tags,
        summary: 'Get a plan change',
        params: ChangeParams,
        response: { 200: envelope(PlanChange), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => ok(changeView(await getChange(db, principalOf(request), request.params.tenant, request.params.change))),
  );

  app.post(
    `${BASE}/:change/report`,
    {
      schema: {
        tags,
        summary: 'Report how a plan change ended',
        description:
          "The product's backend (its client) reports that it provisioned the change (`applied`) or could not (`failed`). Repeating a success report is a no-op; a report of a change that is not waiting for one is refused (409).",
        params: ChangeParams,
        body: ChangeReport,
        response: { 200: envelope(PlanChange), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request) => {
      const { outcome, reason } = request.body;
      const { change } = await db.transaction().execute((tx) =>
        reportChange(tx, deps, callerOf(request), request.params.tenant, {
          changeId: request.params.change,
          outcome,
          body: reason ? { reason } : null,
        }),
      );
      return ok(changeView(change));
    },
  );
}
