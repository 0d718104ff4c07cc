import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { PageQuery } from '../http/pagination.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Client, ClientCreate, ClientRotate, ClientWithSecret } from './clients.schemas.ts';
import { createClient, getClient, listClients, revokeClient, rotateClientSecret, toClientView } from './clients.service.ts';

const tags = ['Clients'];
const ProductParams = Type.Object({ product: Type.String({ minLength: 1, maxLength: 200, description: 'Product id or system name' }) });
const ClientParams = Type.Object({
  ...ProductParams.properties,
  clientId: Type.String({ minLength: 1, maxLength: 200, description: 'The public client id (`cl_…`) or the row id' }),
});
const WHO = 'Super admins and the product’s admins; a product client may not manage clients (403).';
const NO_REPLAY = 'With an Idempotency-Key, a retry within 24 h replays this answer (stored encrypted) instead of issuing another secret.';

/** `/v1/products/{product}/clients`: the credentials a product's backend uses to call Landlord. */
export function registerClientRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/products/:product/clients',
    {
      schema: {
        tags,
        summary: 'Create a client',
        description: `${WHO} The response is the only one that shows \`clientSecret\`. ${NO_REPLAY}`,
        params: ProductParams,
        body: ClientCreate,
        response: { 201: envelope(ClientWithSecret), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createClient(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(view));
    },
  );

  app.get(
    '/v1/products/:product/clients',
    {
      schema: {
        tags,
        summary: 'List a product’s clients',
        description: `${WHO} Secrets are never shown.`,
        params: ProductParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Client), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await listClients(db, callerOf(request), request.params.product, request.query.cursor, limit);
      return okPage(page.items.map(toClientView), page.nextCursor, limit);
    },
  );

  app.get(
    '/v1/products/:product/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Get a client',
        description: WHO,
        params: ClientParams,
        response: { 200: envelope(Client), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await getClient(db, callerOf(request), request.params.product, request.params.clientId)),
  );

  app.delete(
    '/v1/products/:product/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Revoke a client',
        description: `${WHO} Its secret and every token issued to it stop working at once, on every node. Revoking again changes nothing.`,
        params: ClientParams,
        response: { 200: envelope(Client), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const view = await db
        .transaction()
        .execute((tx) => revokeClient(tx, deps.clock, callerOf(request), request.params.product, request.params.clientId));
      return ok(view);
    },
  );

  app.post(
    '/v1/products/:product/clients/:clientId/rotate-secret',
    {
      schema: {
        tags,
        summary: 'Give a client a new secret',
        description:
          `${WHO} The old secret stops working at once; tokens already issued keep working until they expire ` +
          `(revoke the client to end them). The body may be empty. ${NO_REPLAY}`,
        params: ClientParams,
        body: ClientRotate,
        response: { 200: envelope(ClientWithSecret), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
      // An empty body means "no options".
    },
    async (request) => {
      const view = await db
        .transaction()
        .execute((tx) => rotateClientSecret(tx, callerOf(request), request.params.product, request.params.clientId, request.body));
      return ok(view);
    },
  );
}
