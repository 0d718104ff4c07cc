import { Type } from 'typebox';
import type { Authenticator } from '../access/authenticator.ts';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { ifMatchOf, setETag } from '../http/etag.ts';
import { PageQuery } from '../http/pagination.ts';
import { Deleted, RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import {
  Connection,
  ConnectionCreate,
  ConnectionUpdate,
  ConnectionWithSecret,
  VerifyRequest,
  VerifyResult,
} from './connections.schemas.ts';
import {
  type ConnectionDeps,
  createConnection,
  deleteConnection,
  getConnection,
  listConnections,
  toConnectionView,
  updateConnection,
} from './connections.service.ts';
import type { ConnectionVerifier } from './verifier.ts';

const tags = ['Connections'];
const TenantParams = RefParam('tenant', 'Tenant id or name');
const ConnectionParams = Type.Object({
  ...TenantParams.properties,
  connection: Type.String({ minLength: 1, maxLength: 64, description: 'Connection id (32 hex characters)' }),
});
const WHO = 'Operators, the product’s clients (their own product’s tenants) and resellers (their own tenants).';

/** `/v1/tenants/{tenant}/connections` and `/v1/connections/verify`: the credentials programs use to reach a tenant. */
export function registerConnectionRoutes(
  app: HttpApp,
  db: Db,
  deps: ConnectionDeps & { verifier: ConnectionVerifier; authenticator: Authenticator },
): void {
  // A connection change commits, then this node forgets what it cached at once (other nodes hear the NOTIFY).
  const changing = async <T>(work: (tx: Db) => Promise<T>): Promise<T> => {
    try {
      return await db.transaction().execute(work);
    } finally {
      deps.verifier.forgetAll();
    }
  };

  registerVerifyRoute(app, deps);

  app.post(
    '/v1/tenants/:tenant/connections',
    {
      schema: {
        tags,
        summary: 'Create a connection',
        description: `${WHO} The response is the only one that shows \`secret\`; Landlord keeps its hash.`,
        params: TenantParams,
        body: ConnectionCreate,
        response: { 201: envelope(ConnectionWithSecret), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const view = await changing((tx) => createConnection(tx, deps, callerOf(request), request.params.tenant, request.body));
      return reply.code(201).send(ok(view));
    },
  );

  app.get(
    '/v1/tenants/:tenant/connections',
    {
      schema: {
        tags,
        summary: 'List a tenant’s connections',
        description: `${WHO} Secrets are never shown.`,
        params: TenantParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Connection), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listConnections(db, callerOf(request), request.params.tenant, request.query.cursor, limit);
      return okPage(page.items.map(toConnectionView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/tenants/:tenant/connections/:connection',
    {
      schema: {
        tags,
        summary: 'Get a connection',
        description: WHO,
        params: ConnectionParams,
        response: { 200: envelope(Connection), ...errors(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const row = await getConnection(db, callerOf(request), request.params.tenant, request.params.connection);
      setETag(reply, row);
      return ok(toConnectionView(row));
    },
  );

  app.patch(
    '/v1/tenants/:tenant/connections/:connection',
    {
      schema: {
        tags,
        summary: 'Change a connection',
        description: `${WHO} \`active: false\` deactivates it: verification fails from the moment this commits, on every node. Honours \`If-Match\`.`,
        params: ConnectionParams,
        body: ConnectionUpdate,
        response: { 200: envelope(Connection), ...errors(400, 401, 403, 404, 412, 413, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, connection } = request.params;
      const row = await changing((tx) =>
        updateConnection(tx, deps, callerOf(request), tenant, connection, request.body, ifMatchOf(request)),
      );
      setETag(reply, row);
      return ok(toConnectionView(row));
    },
  );

  for (const [path, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    app.post(
      `/v1/tenants/:tenant/connections/:connection/${path}`,
      {
        schema: {
          tags,
          summary: `${active ? 'Activate' : 'Deactivate'} a connection`,
          description: `${WHO} The same as \`PATCH\` with \`active: ${active}\`.`,
          params: ConnectionParams,
          response: { 200: envelope(Connection), ...errors(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        const { tenant, connection } = request.params;
        const row = await changing((tx) => updateConnection(tx, deps, callerOf(request), tenant, connection, { active }, undefined));
        setETag(reply, row);
        return ok(toConnectionView(row));
      },
    );
  }

  app.delete(
    '/v1/tenants/:tenant/connections/:connection',
    {
      schema: {
        tags,
        summary: 'Delete a connection',
        description: WHO,
        params: ConnectionParams,
        response: { 200: envelope(Deleted), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { tenant, connection } = request.params;
      const id = await changing((tx) => deleteConnection(tx, callerOf(request), tenant, connection));
      return ok({ id, deleted: true });
    },
  );
}

/**
 * `POST /v1/connections/verify`, in a scope of its own: products call it on every request
 * they receive, so it is not held to the per-credential rate limit (it is marked public
 * for the limiter and the global hook, and authenticates the bearer credential here).
 * It costs no query once a connection is cached, and a guess at a 192-bit secret is hopeless.
 */
function registerVerifyRoute(app: HttpApp, deps: { verifier: ConnectionVerifier; authenticator: Authenticator }): void {
  app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp;
    scope.addHook('onRequest', async (request) => {
      request.principal = await deps.authenticator.authenticate(request.headers.authorization);
    });
    scope.post(
      '/v1/connections/verify',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'Verify a connection credential',
          description:
            'What a product’s backend calls for a request that presents a connection id and secret: `valid: true` with the tenant, the connection and its permissions, or `valid: false` with the reason. A product’s client sees only its own product’s connections (another product’s are `unknown`). Not rate limited: call it as often as requests arrive.',
          body: VerifyRequest,
          response: { 200: envelope(VerifyResult), ...errors(400, 401, 413) },
        },
      },
      async (request) => {
        const result = await deps.verifier.verify(request.body.id, request.body.secret, principalOf(request).productId);
        if (!result.valid) return ok({ valid: false, reason: result.reason, tenant: null, connection: null, permissions: [] });
        return ok({ valid: true, reason: null, tenant: result.tenant, connection: result.connection, permissions: result.permissions });
      },
    );
  });
}
