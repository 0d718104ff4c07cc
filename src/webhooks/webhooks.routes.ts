import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { PageQuery } from '../http/pagination.ts';
import { Deleted, JsonObject, Nullable, Timestamp } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { getDelivery, listDeliveries, replayFailed, resendDelivery, toDeliveryView } from './deliveries.service.ts';
import { Endpoint, EndpointCreate, EndpointUpdate, EndpointWithSecret, RotateSecret } from './endpoints.schemas.ts';
import {
  createEndpoint,
  deleteEndpoint,
  type EndpointDeps,
  getVisibleEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  sendTestEvent,
  toEndpointView,
  updateEndpointSettings,
} from './endpoints.service.ts';

const tags = ['Webhooks'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Delivery = Type.Object({
  id: Type.String(),
  endpointId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  tenantId: Nullable(Type.String()),
  status: Type.Enum(['pending', 'delivered', 'failed']),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
});
const DeliveryDetail = Type.Object({
  ...Delivery.properties,
  attemptLog: Type.Array(
    Type.Object({
      at: Timestamp,
      requestHeaders: JsonObject,
      responseStatus: Nullable(Type.Integer()),
      responseBody: Nullable(Type.String({ description: 'At most 16 KiB' })),
      durationMs: Type.Integer(),
      error: Nullable(Type.String()),
    }),
  ),
});

/** `/v1/webhook-endpoints` and `/v1/deliveries`: subscriptions to events, signed deliveries, their record. */
export function registerWebhookRoutes(app: HttpApp, db: Db, deps: EndpointDeps): void {
  app.post(
    '/v1/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'Subscribe an endpoint to events',
        description: 'Returns the signing secret (`whsec_…`) once. Deliveries are signed per the Standard Webhooks specification.',
        body: EndpointCreate,
        response: { 201: envelope(EndpointWithSecret), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(ok(await db.transaction().execute((tx) => createEndpoint(tx, deps, callerOf(request), request.body)))),
  );

  app.get(
    '/v1/webhook-endpoints',
    {
      schema: {
        tags,
        summary: 'List endpoints',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Endpoint), ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listEndpoints(db, callerOf(request), request.query.cursor, limit);
      const now = deps.clock.now();
      return okPage(
        page.items.map((row) => toEndpointView(row, now)),
        page.nextCursor,
        limit,
      );
    },
  );

  app.get(
    '/v1/webhook-endpoints/:id',
    { schema: { tags, summary: 'Get an endpoint', params: IdParams, response: { 200: envelope(Endpoint), ...errors(401, 404, 429) } } },
    async (request) => ok(toEndpointView(await getVisibleEndpoint(db, callerOf(request), request.params.id), deps.clock.now())),
  );

  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Change, disable or re-enable an endpoint',
        params: IdParams,
        body: EndpointUpdate,
        response: { 200: envelope(Endpoint), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request) =>
      ok(await db.transaction().execute((tx) => updateEndpointSettings(tx, deps, callerOf(request), request.params.id, request.body))),
  );

  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Delete an endpoint and its delivery records',
        params: IdParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      await db.transaction().execute((tx) => deleteEndpoint(tx, callerOf(request), request.params.id));
      return ok({ id: request.params.id, deleted: true });
    },
  );

  app.post(
    '/v1/webhook-endpoints/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a test event',
        description: 'Records a `webhook_endpoint.test` event that is delivered to this endpoint only, whatever types it subscribed to.',
        params: IdParams,
        response: { 200: envelope(Type.Object({ eventId: Type.String() })), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await db.transaction().execute((tx) => sendTestEvent(tx, callerOf(request), request.params.id))),
  );

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'Rotate the signing secret',
        description: 'The new secret is returned once. During the grace period (default 24 h) deliveries carry both signatures.',
        params: IdParams,
        body: RotateSecret,
        response: { 200: envelope(EndpointWithSecret), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(
        await db
          .transaction()
          .execute((tx) => rotateEndpointSecret(tx, deps, callerOf(request), request.params.id, request.body.graceSeconds)),
      ),
  );

  app.get(
    '/v1/webhook-endpoints/:id/deliveries',
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first",
        params: IdParams,
        querystring: Type.Object(
          { ...PageQuery, status: Type.Optional(Type.Enum(['pending', 'delivered', 'failed'])) },
          { additionalProperties: false },
        ),
        response: { 200: listEnvelope(Delivery), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listDeliveries(db, callerOf(request), request.params.id, { ...request.query, limit });
      return okPage(page.items.map(toDeliveryView), page.nextCursor, limit);
    },
  );

  app.post(
    '/v1/webhook-endpoints/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send again everything that failed since a time',
        params: IdParams,
        body: Type.Object({ since: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 200: envelope(Type.Object({ replayed: Type.Integer() })), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const replayed = await db
        .transaction()
        .execute((tx) => replayFailed(tx, callerOf(request), request.params.id, new Date(request.body.since), deps.clock.now()));
      return ok({ replayed });
    },
  );

  app.get(
    '/v1/deliveries/:id',
    {
      schema: {
        tags,
        summary: 'A delivery and every attempt made',
        params: IdParams,
        response: { 200: envelope(DeliveryDetail), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(await getDelivery(db, callerOf(request), request.params.id)),
  );

  app.post(
    '/v1/deliveries/:id/resend',
    {
      schema: {
        tags,
        summary: 'Send one delivery again now',
        params: IdParams,
        response: { 200: envelope(Delivery), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(await db.transaction().execute((tx) => resendDelivery(tx, callerOf(request), request.params.id, deps.clock.now()))),
  );
}
