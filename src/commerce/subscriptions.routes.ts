import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { setETag } from '../http/etag.ts';
import { decodeCursor, PageQuery, SERIAL_KEY } from '../http/pagination.ts';
import type { HttpApp } from '../http/types.ts';
import { principalOf } from '../http/types.ts';
import {
  Period,
  Subscription,
  SubscriptionCancel,
  SubscriptionCreate,
  SubscriptionUpdate,
  TenantParams,
  TrialChange,
  subscriptionTags as tags,
} from './commerce.schemas.ts';
import {
  type CommerceDeps,
  cancelSubscription,
  changeTrialEnd,
  createSubscription,
  getSubscription,
  listPeriods,
  setAutoRenew,
  toSubscriptionView,
  withdrawCancellation,
} from './subscriptions.service.ts';

const BASE = '/v1/tenants/:tenant/subscription';
const answer = envelope(Subscription);

/** `/v1/tenants/{tenant}/subscription`: a tenant's subscription, its periods, cancellation, auto-renewal, trial. */
export function registerSubscriptionRoutes(app: HttpApp, db: Db, deps: CommerceDeps): void {
  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: 'Subscribe a tenant to a plan price',
        description:
          'Operators and the product’s clients. At most one live subscription per tenant (409). The first period (or the trial) starts at `startAt`, now by default, on the product’s billing calendar.',
        params: TenantParams,
        body: SubscriptionCreate,
        response: { 201: answer, ...errors(400, 401, 403, 404, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const row = await db.transaction().execute(async (tx) => {
        const created = await createSubscription(tx, deps, caller, request.params.tenant, request.body);
        return getSubscription(tx, caller.principal, created.tenant_id);
      });
      setETag(reply, row);
      return reply.code(201).send(ok(toSubscriptionView(row, caller.principal)));
    },
  );

  app.get(
    BASE,
    {
      schema: {
        tags,
        summary: 'Get a tenant’s subscription',
        description: 'The live subscription, or the latest one when none is live; `actions` lists what the caller may do next.',
        params: TenantParams,
        response: { 200: answer, ...errors(401, 404, 429) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const row = await getSubscription(db, principal, request.params.tenant);
      setETag(reply, row);
      return ok(toSubscriptionView(row, principal));
    },
  );

  const change = (
    path: string,
    summary: string,
    description: string,
    body: Parameters<typeof Type.Object>[0] | null,
    run: (tx: Db, request: { params: { tenant: string }; body: never }, caller: ReturnType<typeof callerOf>) => Promise<unknown>,
    method: 'post' | 'patch' | 'delete' = 'post',
  ) => {
    app[method](
      `${BASE}${path}`,
      {
        schema: {
          tags,
          summary,
          description,
          params: TenantParams,
          ...(body ? { body: Type.Object(body, { additionalProperties: false }) } : {}),
          response: { 200: answer, ...errors(400, 401, 403, 404, 409, 413, 429) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const row = await db.transaction().execute(async (tx) => {
          await run(tx, request as never, caller);
          return getSubscription(tx, caller.principal, request.params.tenant);
        });
        setETag(reply, row);
        return ok(toSubscriptionView(row, caller.principal));
      },
    );
  };

  change(
    '/cancel',
    'Cancel a subscription',
    'At the end of the current period (the trial’s end while trialing) by default, or `now`. The tenant’s lifecycle is not touched.',
    SubscriptionCancel.properties,
    (tx, request, caller) =>
      cancelSubscription(
        tx,
        deps,
        caller,
        request.params.tenant,
        (request.body as { when?: 'now' | 'period_end' } | undefined)?.when ?? 'period_end',
      ),
  );
  change(
    '/cancel',
    'Withdraw a scheduled cancellation',
    'The subscription renews again as before.',
    null,
    (tx, request, caller) => withdrawCancellation(tx, deps, caller, request.params.tenant),
    'delete',
  );
  change(
    '',
    'Turn auto-renewal on or off',
    'Off, the subscription expires at the end of its period.',
    SubscriptionUpdate.properties,
    (tx, request, caller) => setAutoRenew(tx, deps, caller, request.params.tenant, (request.body as { autoRenew: boolean }).autoRenew),
    'patch',
  );
  change(
    '/trial/extend',
    'Extend a trial',
    'Operators only; the trial-will-end notice is sent again before the new end.',
    TrialChange.properties,
    (tx, request, caller) => changeTrialEnd(tx, deps, caller, request.params.tenant, new Date((request.body as { endsAt: string }).endsAt)),
  );
  change(
    '/trial/end',
    'End a trial now',
    'Operators only; the first paid period starts now and the anchor moves here.',
    null,
    (tx, request, caller) => changeTrialEnd(tx, deps, caller, request.params.tenant, 'now'),
  );

  app.get(
    `${BASE}/periods`,
    {
      schema: {
        tags,
        summary: 'List a subscription’s periods',
        description: 'The billing history of the tenant’s current (or latest) subscription, by number; each half-open [start, end).',
        params: TenantParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: listEnvelope(Period), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const after = decodeCursor(request.query.cursor, SERIAL_KEY);
      const page = await listPeriods(
        db,
        principalOf(request),
        request.params.tenant,
        after === undefined ? undefined : Number(after),
        limit,
      );
      return okPage(
        page.items.map((p) => ({
          id: p.id,
          number: p.number,
          start: p.start_at.toISOString(),
          end: p.end_at?.toISOString() ?? null,
          priceId: p.price_id,
          amount: p.amount_minor,
          currency: p.currency,
          trial: p.trial,
        })),
        page.nextCursor,
        limit,
      );
    },
  );
}
