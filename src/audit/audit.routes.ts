import { Type } from 'typebox';
import { canSeeProduct, type Principal } from '../access/principal.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { errors, listEnvelope, okPage } from '../http/envelope.ts';
import { decodeCursor, PageQuery, SERIAL_KEY, toPage } from '../http/pagination.ts';
import { Nullable, Timestamp } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import { isUuid } from '../platform/ids.ts';
import { findProduct } from '../products/products.repo.ts';
import { findAuditRecords } from './audit.repo.ts';

const tags = ['Audit'];
const Text = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 200, description }));
const Instant = (description: string) => Type.Optional(Type.String({ format: 'date-time', description }));

const AuditQuery = Type.Object(
  {
    product: Text('Product id or system name'),
    objectType: Text('e.g. `product`, `client`, `tenant`'),
    objectId: Text('The id of the object'),
    action: Text('e.g. `client.revoke`'),
    actorId: Text('The credential that acted (API key id, client id, `admin-key`, `landlord`)'),
    since: Instant('Records at or after this instant (ISO 8601 with a time zone)'),
    until: Instant('Records before this instant (ISO 8601 with a time zone)'),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  actor: Type.Object({ type: Type.String(), id: Type.String() }),
  action: Type.String(),
  objectType: Type.String(),
  objectId: Type.String(),
  productId: Nullable(Type.String()),
  before: Type.Unknown({ description: 'The object as the API showed it before the change, or null' }),
  after: Type.Unknown({ description: 'The object as the API showed it after the change, or null' }),
  requestId: Nullable(Type.String()),
});

/** `GET /v1/audit-log`: who changed what, newest first. */
export function registerAuditRoutes(app: HttpApp, db: Db): void {
  app.get(
    '/v1/audit-log',
    {
      schema: {
        tags,
        summary: 'Read the audit log',
        description:
          'Every change, newest first, with the object before and after it. Super admins see every record; ' +
          'a credential scoped to a product sees only that product’s records.',
        querystring: AuditQuery,
        response: { 200: listEnvelope(AuditRecord), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const query = request.query;
      const limit = query.limit ?? 50;
      const since = query.since === undefined ? undefined : new Date(query.since);
      const until = query.until === undefined ? undefined : new Date(query.until);
      if (since && until && since > until) {
        throw new AppError('request.invalid', { message: '"until" must not be before "since"', parameter: 'querystring.until' });
      }
      const rows = await findAuditRecords(
        db,
        {
          productId: await productFilter(db, principalOf(request), query.product),
          objectType: query.objectType,
          objectId: query.objectId,
          action: query.action,
          actorId: query.actorId,
          since,
          until,
          beforeId: cursorId(query.cursor),
        },
        limit,
      );
      const page = toPage(rows, limit, (row) => row.id);
      return okPage(
        page.items.map((row) => ({
          id: row.id,
          at: row.at.toISOString(),
          actor: { type: row.actor_type, id: row.actor_id },
          action: row.action,
          objectType: row.object_type,
          objectId: row.object_id,
          productId: row.product_id,
          before: row.before,
          after: row.after,
          requestId: row.request_id,
        })),
        page.nextCursor,
        limit,
      );
    },
  );
}

/**
 * The product the records are confined to. A scoped caller is always confined to its own
 * product, and naming another one is 404. A super admin may name a product by id even
 * after it was deleted: the trail outlives what it describes.
 */
async function productFilter(db: Db, principal: Principal, ref: string | undefined): Promise<string | null> {
  if (ref === undefined) return principal.productId;
  if (principal.productId === null && isUuid(ref)) return ref.toLowerCase();
  const product = await findProduct(db, ref);
  if (!product || !canSeeProduct(principal, product.id)) {
    throw new AppError('product.not_found', { message: `No product "${ref}"`, parameter: 'querystring.product' });
  }
  return product.id;
}

function cursorId(cursor: string | undefined): number | undefined {
  const key = decodeCursor(cursor, SERIAL_KEY);
  if (key === undefined) return undefined;
  const id = Number(key);
  if (!Number.isSafeInteger(id)) throw new AppError('request.invalid_cursor', { parameter: 'cursor' });
  return id;
}
