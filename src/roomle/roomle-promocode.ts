import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { Nullable } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { Code } from '../promo-codes/promo-codes.schemas.ts';
import { redeemPromoCode } from '../promo-codes/promo-codes.service.ts';
import { IdParams, roomleErrors, roomleTags as tags, wrapped } from './roomle.schemas.ts';
import { nativeCaller, roomleCallerOf } from './roomle-auth.ts';
import { roomleOk } from './roomle-http.ts';
import { lockTenantRow } from './roomle-tenants.repo.ts';
import { resolveTenant } from './roomle-tenants.service.ts';

// Roomle's PromocodeContainer: the code as a string or as `{ code }`.
const PromocodeContainer = Type.Object(
  { promocode: Type.Union([Code, Type.Object({ code: Code }, { additionalProperties: true })]) },
  { additionalProperties: false },
);
const Purchase = Type.Object({
  id: Type.String({ description: 'The subscription the code created' }),
  package: Nullable(Type.String({ description: 'The Roomle package of the plan; null when the product maps the plan to none' })),
  promocode: Type.String(),
  fromPromocode: Type.Boolean(),
  validFrom: Type.String({ format: 'date-time' }),
  validTill: Nullable(Type.String({ format: 'date-time' })),
});

/** `POST /v2/tenants/{id}/promocode/`: redeems a promo code for the tenant; answers the generated purchase. */
export function registerRoomlePromocodeRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  app.post(
    '/v2/tenants/:id/promocode',
    {
      schema: {
        tags,
        summary: 'Use a promo code on the tenant',
        description:
          'tenant_payment rights. The code must be active, within its window, not exhausted and not used by this tenant (else a 4xx naming why). The tenant gets the code’s plan for its duration: the generated purchase is answered.',
        params: IdParams,
        body: PromocodeContainer,
        response: { 200: wrapped('purchase', Purchase), ...roomleErrors(400, 401, 403, 404, 409, 422, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const code = typeof request.body.promocode === 'string' ? request.body.promocode : request.body.promocode.code;
      const purchase = await db.transaction().execute(async (tx) => {
        const tenant = await resolveTenant(tx, who, request.params.id, 'tenant_payment');
        await lockTenantRow(tx, tenant.id);
        const { promo, subscription } = await redeemPromoCode(tx, deps.clock, nativeCaller(who, tenant.product_id), tenant, code);
        const mapped = await tx
          .selectFrom('roomle_packages')
          .select('package')
          .where('product_id', '=', tenant.product_id)
          .where('plan_id', '=', promo.plan_id)
          .executeTakeFirst();
        const till =
          subscription.status === 'trialing' ? subscription.trial_end_at : (subscription.cancel_at ?? subscription.current_period_end);
        if (!subscription.start_at) throw new AppError('server.internal');
        return {
          id: subscription.id,
          package: mapped?.package ?? null,
          promocode: promo.code,
          fromPromocode: true,
          validFrom: subscription.start_at.toISOString(),
          validTill: till?.toISOString() ?? null,
        };
      });
      return roomleOk(deps.clock, 'purchase', purchase);
    },
  );
}
