import { requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { type BillingSettings, findBillingSettings, saveBillingSettings } from './billing-settings.ts';
import { isValidZone } from './calendar.ts';
import { clockStatus, completeAdvance } from './clock-advance.ts';
import {
  BillingSettingsUpdate,
  BillingSettingsView,
  ClockAdvance,
  ClockStatusView,
  ClockView,
  DEFAULT_WAIT_SECONDS,
  ProductParams,
} from './commerce.schemas.ts';
import type { RenewalDeps } from './renewals.ts';

const tags = ['Subscriptions'];

/** The settings as the API shows them, with the product's commerce clock now. */
export function toBillingView(settings: BillingSettings, clock: Clock) {
  return {
    productId: settings.productId,
    timeZone: settings.timeZone,
    trialWillEndDays: settings.trialWillEndDays,
    sandbox: settings.sandbox,
    clock: new Date(clock.now().getTime() + settings.clockOffsetMs).toISOString(),
    version: settings.version,
  };
}

/** `/v1/products/{product}/billing`: the billing time zone, the trial notice lead, sandbox mode. */
export function registerBillingRoutes(app: HttpApp, db: Db, deps: { clock: Clock; renewals: RenewalDeps }): void {
  app.get(
    '/v1/products/:product/billing',
    {
      schema: {
        tags,
        summary: 'Get a product’s billing settings',
        params: ProductParams,
        response: { 200: envelope(BillingSettingsView), ...errors(401, 404, 429) },
      },
    },
    async (request) => {
      const product = await getVisibleProduct(db, principalOf(request), request.params.product);
      return ok(toBillingView(await findBillingSettings(db, product.id), deps.clock));
    },
  );

  app.patch(
    '/v1/products/:product/billing',
    {
      schema: {
        tags,
        summary: 'Change a product’s billing settings',
        description:
          'Operators only. A new time zone applies to subscriptions created from now on (each keeps the calendar it started on). Leaving sandbox mode resets the commerce clock to real time only when it was never moved.',
        params: ProductParams,
        body: BillingSettingsUpdate,
        response: { 200: envelope(BillingSettingsView), ...errors(400, 401, 403, 404, 409, 413, 429) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      requireRole(caller.principal, 'super_admin', 'product_admin');
      const body = request.body;
      if (body.timeZone !== undefined && !isValidZone(body.timeZone))
        throw new AppError('request.invalid', { message: `"${body.timeZone}" is not an IANA time zone`, parameter: 'timeZone' });
      const saved = await db.transaction().execute(async (tx) => {
        const product = await getVisibleProduct(tx, caller.principal, request.params.product);
        const before = await findBillingSettings(tx, product.id, { lock: true });
        // A clock that moved ahead cannot come back: a product whose commerce already ran ahead stays a sandbox.
        if (body.sandbox === false && before.clockOffsetMs > 0)
          throw new AppError('clock.backwards', {
            message: 'The commerce clock was moved ahead; it cannot go back to real time',
            parameter: 'sandbox',
          });
        const next = { ...before, ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) } as BillingSettings;
        const after = await saveBillingSettings(tx, next, deps.clock.now());
        await insertAuditRecord(tx, caller.actor, {
          action: 'product.billing',
          objectType: 'product',
          objectId: product.id,
          productId: product.id,
          before: toBillingView(before, deps.clock),
          after: toBillingView(after, deps.clock),
        });
        return after;
      });
      return ok(toBillingView(saved, deps.clock));
    },
  );

  app.get(
    '/v1/products/:product/clock',
    {
      schema: {
        tags,
        summary: 'Read a product’s commerce clock',
        description:
          'Where the clock is, and `advancing` while a plan change due by then waits for the product’s backend to confirm it (then `ready`): poll it after an advance answered 202.',
        params: ProductParams,
        response: { 200: envelope(ClockStatusView), ...errors(401, 404, 429) },
      },
    },
    async (request) => {
      const product = await getVisibleProduct(db, principalOf(request), request.params.product);
      return ok(await clockStatus({ db, clock: deps.clock }, product.id));
    },
  );

  app.post(
    '/v1/products/:product/clock/advance',
    {
      schema: {
        tags,
        summary: 'Move a sandbox product’s commerce clock forward',
        description:
          'Operators only, sandbox products only (409 otherwise). Everything commerce does for the product — trials, renewals, cancellations at period end, plan changes at period end, bills and recurring bills, usage windows (limits cleared, overage billed) — runs as of this clock. The clock keeps running from `to` and never goes back (422). The answer waits for all work due up to `to`, including the backend’s confirmation of every plan change due by then (its call’s 2xx in response mode, its report in callback mode), up to `waitSeconds`: 200 with `status: "ready"` when all is done; 202 with `status: "advancing"` and the changes still `waitingFor` the backend when the wait ran out — the clock has moved, and `GET …/clock` turns `ready` once they are confirmed, fail, or miss their report deadline.',
        params: ProductParams,
        body: ClockAdvance,
        response: { 200: envelope(ClockView), 202: envelope(ClockView), ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      requireRole(caller.principal, 'super_admin', 'product_admin');
      const to = new Date(request.body.to);
      const productId = await db.transaction().execute(async (tx) => {
        const product = await getVisibleProduct(tx, caller.principal, request.params.product);
        const before = await findBillingSettings(tx, product.id, { lock: true });
        if (!before.sandbox) throw new AppError('clock.not_sandbox', { parameter: 'product' });
        const real = deps.clock.now().getTime();
        if (to.getTime() < real + before.clockOffsetMs)
          throw new AppError('clock.backwards', {
            message: `The clock is at ${new Date(real + before.clockOffsetMs).toISOString()}`,
            parameter: 'to',
          });
        const after = await saveBillingSettings(tx, { ...before, clockOffsetMs: to.getTime() - real }, new Date(real));
        await insertAuditRecord(tx, caller.actor, {
          action: 'product.advance_clock',
          objectType: 'product',
          objectId: product.id,
          productId: product.id,
          before: toBillingView(before, deps.clock),
          after: toBillingView(after, deps.clock),
        });
        return product.id;
      });
      const done = await completeAdvance(deps.renewals, productId, (request.body.waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000);
      return reply.code(done.status === 'ready' ? 200 : 202).send(ok(done));
    },
  );
}
