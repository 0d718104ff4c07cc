import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { PromoCode, PromoCodeCreate, PromoCodeUpdate } from './promo-codes.schemas.ts';
import { createPromoCode, getPromoCode, listPromoCodes, updatePromoCode } from './promo-codes.service.ts';

const tags = ['Promo codes'];
const ProductParams = RefParam('product', 'Product id or name');
const CodeParams = Type.Object({ ...ProductParams.properties, code: Type.String({ minLength: 1, maxLength: 64 }) });

/** `/v1/products/{product}/promo-codes`: operators define the codes tenants redeem (the Roomle API's `promocode`). */
export function registerPromoCodeRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v1/products/:product/promo-codes',
    {
      schema: {
        tags,
        summary: 'Define a promo code',
        description:
          'Operators. The code grants a published plan price of the product for `durationDays` (a subscription whose trial lasts that long and that does not renew), within an optional active window, up to `maxRedemptions` in total, once per tenant.',
        params: ProductParams,
        body: PromoCodeCreate,
        response: { 201: envelope(PromoCode), ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const view = await db
        .transaction()
        .execute((tx) => createPromoCode(tx, deps.clock, callerOf(request), request.params.product, request.body));
      return reply.code(201).send(ok(view));
    },
  );
  app.get(
    '/v1/products/:product/promo-codes',
    {
      schema: {
        tags,
        summary: 'List promo codes',
        params: ProductParams,
        response: { 200: envelope(Type.Array(PromoCode)), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await listPromoCodes(db, principalOf(request), request.params.product)),
  );
  app.get(
    '/v1/products/:product/promo-codes/:code',
    {
      schema: {
        tags,
        summary: 'Get a promo code',
        params: CodeParams,
        response: { 200: envelope(PromoCode), ...errors(401, 403, 404, 429) },
      },
    },
    async (request) => ok(await getPromoCode(db, principalOf(request), request.params.product, request.params.code)),
  );
  app.patch(
    '/v1/products/:product/promo-codes/:code',
    {
      schema: {
        tags,
        summary: 'Change a promo code',
        description: 'Turn it off or on, move its end, change its total (never below what was redeemed).',
        params: CodeParams,
        body: PromoCodeUpdate,
        response: { 200: envelope(PromoCode), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) =>
      ok(
        await db
          .transaction()
          .execute((tx) => updatePromoCode(tx, deps.clock, callerOf(request), request.params.product, request.params.code, request.body)),
      ),
  );
}
