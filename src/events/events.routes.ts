import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { ErrorItemSchema, errors } from '../http/envelope.ts';
import { decodeCursor, encodeCursor, SERIAL_KEY } from '../http/pagination.ts';
import { Nullable, Timestamp } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { getVisibleTenant } from '../tenants/tenants.service.ts';
import { EVENT_TYPES } from './event-types.ts';
import { findEvents } from './events.repo.ts';

const tags = ['Events'];

export const Event = Type.Object({
  id: Type.String({ description: 'Also the `webhook-id` of its deliveries' }),
  type: Type.String({ description: 'One of the types under `webhooks` in this document' }),
  occurredAt: Timestamp,
  productId: Nullable(Type.String()),
  tenantId: Nullable(Type.String()),
  tenantSequence: Nullable(Type.Integer({ description: "1, 2, 3… for each tenant's events" })),
  data: Type.Record(Type.String(), Type.Unknown()),
});

const FeedEnvelope = Type.Object({
  data: Type.Array(Event),
  metadata: Type.Object({
    success: Type.Boolean(),
    errors: Type.Array(ErrorItemSchema),
    pagination: Type.Object({
      nextCursor: Type.String({ description: 'Pass as `after` to continue; present even on the last page, so a reader can keep polling' }),
      hasMore: Type.Boolean(),
      limit: Type.Integer(),
    }),
  }),
});

/** An event row as the API and webhooks show it. */
export function toEventView(row: {
  id: string;
  type: string;
  occurred_at: Date;
  product_id: string | null;
  tenant_id: string | null;
  tenant_seq: number | null;
  data: Record<string, unknown>;
}) {
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    productId: row.product_id,
    tenantId: row.tenant_id,
    tenantSequence: row.tenant_seq,
    data: row.data,
  };
}

/** `GET /v1/events`: the ordered feed of everything that happened. */
export function registerEventRoutes(app: HttpApp, db: Db): void {
  app.get(
    '/v1/events',
    {
      schema: {
        tags,
        summary: 'The event feed',
        description:
          "Events in the order they committed. Keep calling with `after` = the last `nextCursor`: you never miss an event and never see one twice. A product-scoped credential sees only its product's events.",
        querystring: Type.Object(
          {
            type: Type.Optional(Type.String({ maxLength: 2000, description: 'Comma-separated event types; `tenant.*` matches a prefix' })),
            product: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            after: Type.Optional(
              Type.String({ maxLength: 200, description: '`nextCursor` of the previous page; omit to start at the beginning' }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: FeedEnvelope, ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { query } = request;
      const limit = query.limit ?? 100;
      const productId = query.product ? (await getVisibleProduct(db, principal, query.product)).id : principal.productId;
      const tenantId = query.tenant ? (await getVisibleTenant(db, principal, query.tenant)).id : undefined;
      const after = decodeCursor(query.after, SERIAL_KEY);
      const rows = await findEvents(
        db,
        { types: expandTypes(query.type), productId, tenantId, afterPosition: after === undefined ? undefined : Number(after) },
        limit,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1)?.position ?? (after === undefined ? 0 : Number(after));
      return {
        data: page.map(toEventView),
        metadata: { success: true, errors: [], pagination: { nextCursor: encodeCursor(last), hasMore: rows.length > limit, limit } },
      };
    },
  );
}

/** Turns `tenant.*,product.created` into the concrete types it names; an unknown type is a 400. */
export function expandTypes(spec: string | undefined): string[] | undefined {
  if (!spec) return undefined;
  const types = new Set<string>();
  for (const part of spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const matches = part.endsWith('*')
      ? EVENT_TYPES.filter((type) => type.startsWith(part.slice(0, -1)))
      : EVENT_TYPES.filter((type) => type === part);
    if (matches.length === 0) {
      throw new AppError('request.invalid', {
        message: `Unknown event type "${part}"; the types are listed under webhooks in /openapi.json`,
        parameter: 'type',
      });
    }
    for (const type of matches) types.add(type);
  }
  return [...types];
}
