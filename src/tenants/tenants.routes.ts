import type { FastifyReply } from 'fastify';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import type { StoredAnswer } from '../http/idempotency.ts';
import { JsonObject, RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { onboardTenant } from './onboarding.ts';
import { Tenant, TenantCreate, TenantListQuery, TenantUpdate } from './tenants.schemas.ts';
import {
  getVisibleTenant,
  listTenants,
  type TenantDeps,
  toTenantView,
  updateTenantDetails,
  writeTenantMetadata,
} from './tenants.service.ts';

const tags = ['Tenants'];
const TenantParams = RefParam('tenant', 'Tenant id or name');

/** `/v1/tenants`: tenant records, their specification values and metadata. */
export function registerTenantRoutes(app: HttpApp, db: Db, deps: TenantDeps): void {
  app.post(
    '/v1/tenants',
    {
      schema: {
        tags,
        summary: 'Create a tenant',
        description:
          "Creates the tenant record (status `record_created`) and, when the product's `provisioning.autoSendCreation` is on, sends the creation request at once (status `sending_creation_request`). Specification values are checked against the product's published specifications.",
        body: TenantCreate,
        response: { 201: envelope(Tenant), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
      config: { idempotency: 'in-write' },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const claim = request.writeClaim;
      if (!claim) {
        const record = await onboardTenant(db, deps, callerOf(request), request.body);
        setETag(reply, record);
        return reply.code(201).send(ok(toTenantView(record, principal)));
      }
      // The answer is serialized before the write, which stores it with the key in one commit.
      let answer: StoredAnswer | undefined;
      const record = await onboardTenant(db, deps, callerOf(request), request.body, {
        claim,
        answer: (written) => {
          answer = { status: 201, body: reply.code(201).serialize(ok(toTenantView(written, principal))) as string };
          return answer;
        },
      });
      if (!record || !answer) return claim.replay(reply);
      setETag(reply, record);
      return (reply as FastifyReply).code(201).type('application/json; charset=utf-8').send(answer.body);
    },
  );

  app.get(
    '/v1/tenants',
    {
      schema: {
        tags,
        summary: 'List tenants',
        description: 'Filter by product, status and name prefix; pages follow `metadata.pagination.nextCursor`.',
        querystring: TenantListQuery,
        response: { 200: listEnvelope(Tenant), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const limit = request.query.limit ?? 50;
      const page = await listTenants(db, principal, { ...request.query, limit });
      return okPage(
        page.items.map((record) => toTenantView(record, principal)),
        page.nextCursor,
        limit,
      );
    },
  );

  app.get(
    '/v1/tenants/:tenant',
    { schema: { tags, summary: 'Get a tenant', params: TenantParams, response: { 200: envelope(Tenant), ...errors(401, 404, 429) } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const record = await getVisibleTenant(db, principal, request.params.tenant);
      setETag(reply, record);
      return ok(toTenantView(record, principal));
    },
  );

  app.patch(
    '/v1/tenants/:tenant',
    {
      schema: {
        tags,
        summary: 'Change a tenant',
        description: 'Changes the display name or specification values (merged; `null` removes a value). Honours `If-Match`.',
        params: TenantParams,
        body: TenantUpdate,
        response: { 200: envelope(Tenant), ...errors(400, 401, 403, 404, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const record = await db
        .transaction()
        .execute((tx) => updateTenantDetails(tx, deps, callerOf(request), request.params.tenant, request.body, ifMatchOf(request)));
      setETag(reply, record);
      return ok(toTenantView(record, principalOf(request)));
    },
  );

  const metadataResponse = { 200: envelope(JsonObject), ...errors(400, 401, 403, 404, 412, 413, 429) };

  app.get(
    '/v1/tenants/:tenant/metadata',
    {
      schema: {
        tags,
        summary: "Get a tenant's metadata",
        params: TenantParams,
        response: { 200: envelope(JsonObject), ...errors(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const record = await getVisibleTenant(db, principalOf(request), request.params.tenant);
      setETag(reply, record);
      return ok(record.metadata);
    },
  );

  for (const [method, merge] of [
    ['put', false],
    ['patch', true],
  ] as const) {
    app[method](
      '/v1/tenants/:tenant/metadata',
      {
        schema: {
          tags,
          summary: merge ? "Merge into a tenant's metadata" : "Replace a tenant's metadata",
          description: merge
            ? 'JSON Merge Patch (RFC 7386): objects merge, `null` deletes a key. At most 64 KiB. Honours `If-Match`.'
            : 'Replaces the whole metadata object (at most 64 KiB). Honours `If-Match`.',
          params: TenantParams,
          body: JsonObject,
          response: metadataResponse,
        },
      },
      async (request, reply) => {
        const record = await db
          .transaction()
          .execute((tx) =>
            writeTenantMetadata(tx, deps, callerOf(request), request.params.tenant, request.body, { merge, ifMatch: ifMatchOf(request) }),
          );
        setETag(reply, record);
        return ok(record.metadata);
      },
    );
  }
}
