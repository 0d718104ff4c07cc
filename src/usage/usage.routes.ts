import { Type } from 'typebox';
import type { Authenticator } from '../access/authenticator.ts';
import type { ConnectionVerifier } from '../connections/verifier.ts';
import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, listEnvelope, ok, okPage } from '../http/envelope.ts';
import { decodeCursor } from '../http/pagination.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { checkEntitlement, type TenantEntitlements } from './entitlements.service.ts';
import { createEntitlementsCache, type EntitlementsCache } from './entitlements-cache.ts';
import { ingestUsage } from './ingest.service.ts';
import {
  Adjustment,
  AdjustmentCreate,
  CheckRequest,
  CheckResult,
  Entitlements,
  UsageBatch,
  UsageBatchResult,
  UsageQuery,
  UsageSettings,
  UsageWindow,
} from './usage.schemas.ts';
import { adjustUsage, getUsageSettings, listUsage, putUsageSettings, USAGE_KEY } from './usage.service.ts';
import { mayReadTenantUsage, USAGE_READ_PERMISSIONS, usageReaderHook } from './usage-access.ts';

const tags = ['Usage'];
const TenantParams = RefParam('tenant', 'Tenant id or name');
const FeatureParams = Type.Object({
  ...TenantParams.properties,
  feature: Type.String({ minLength: 1, maxLength: 200, description: 'Feature name' }),
});
const READERS = `Operators, the product’s clients, and the tenant’s own API connection holding ${USAGE_READ_PERMISSIONS.join(' or ')} (HTTP Basic \`<connection id>:<secret>\`).`;

/** What the usage routes need. */
export interface UsageRouteDeps {
  clock: Clock;
  listener: Listener;
  authenticator: Authenticator;
  verifier: ConnectionVerifier;
}

/** `/v1/usage`, `/v1/tenants/{tenant}/entitlements…`, `/v1/tenants/{tenant}/usage…`: usage metering and entitlements. */
export async function registerUsageRoutes(app: HttpApp, db: Db, deps: UsageRouteDeps): Promise<EntitlementsCache> {
  const cache = await createEntitlementsCache({ db, clock: deps.clock, listener: deps.listener });
  // A change commits, then this node forgets at once (other nodes hear the NOTIFY).
  const visible = async (request: Parameters<typeof principalOf>[0], ref: string): Promise<TenantEntitlements> => {
    const entitlements = await cache.get(ref);
    const principal = principalOf(request);
    if (!entitlements || !mayReadTenantUsage(principal, { id: entitlements.view.tenant.id, productId: entitlements.productId })) {
      throw new AppError('tenant.not_found', { parameter: 'tenant' });
    }
    return entitlements;
  };

  app.post(
    '/v1/usage',
    {
      schema: {
        tags,
        summary: 'Report usage',
        description:
          'The product’s client (or an operator naming `product`) reports up to 1,000 events (and 1 MiB). A malformed batch is a 400 naming `events.N.field` and stores nothing. Otherwise every event gets an outcome: `accepted` (stored and counted in the same transaction), `duplicate` (the same id and body was stored before: retrying a batch is safe), or `rejected` with a code (`usage.conflict`, `usage.tenant_not_found`, `usage.no_subscription`, `usage.feature_not_in_plan`, `usage.window_closed`, `usage.in_future`).',
        body: UsageBatch,
        response: { 200: envelope(UsageBatchResult), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request) => {
      // The pool, not a transaction: the batch opens one only when more than its one statement must commit.
      const result = await ingestUsage(db, deps, callerOf(request), request.body);
      cache.forget(result.changed);
      return ok(result.view);
    },
  );

  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp;
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true, throttled: true };
    });
    scope.addHook('onRequest', usageReaderHook(deps.authenticator, deps.verifier));

    scope.get(
      '/v1/tenants/:tenant/entitlements',
      {
        schema: {
          tags,
          summary: 'A tenant’s entitlements',
          description: `${READERS} For every feature of the plan of the tenant’s live subscription: type, whether included, limit, used and remaining in the window that contains now, the window, enforcement, and whether it is over the limit. Served from memory on each node.`,
          params: TenantParams,
          response: { 200: envelope(Entitlements), ...errors(401, 403, 404, 429) },
        },
      },
      async (request) => ok((await visible(request, request.params.tenant)).view),
    );

    scope.get(
      '/v1/tenants/:tenant/usage',
      {
        schema: {
          tags,
          summary: 'A tenant’s usage per window',
          description: `${READERS} Totals per feature and window (events and adjustments), oldest first; \`from\`/\`to\` bound the window starts. Cursor-paginated like every list.`,
          params: TenantParams,
          querystring: UsageQuery,
          response: { 200: listEnvelope(UsageWindow), ...errors(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const { limit = 50, cursor, ...filter } = request.query;
        const after = decodeCursor(cursor, USAGE_KEY);
        const page = await listUsage(db, principalOf(request), request.params.tenant, filter, { after, limit });
        return okPage(page.items, page.nextCursor, limit);
      },
    );
  });

  // The check is on the product's own request path: like connection verification, it is not held to the rate limit.
  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp;
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    scope.addHook('onRequest', usageReaderHook(deps.authenticator, deps.verifier));
    scope.post(
      '/v1/tenants/:tenant/entitlements/:feature/check',
      {
        schema: {
          tags,
          summary: 'May the tenant use this much more?',
          description: `${READERS} \`allowed\` is \`used + quantity ≤ limit\` for a hard limit, always true for a soft one (it warns by events), and “included in the plan” for a boolean feature; false for a tenant that is not live or a feature outside its plan. Answered from memory; every change to usage, subscriptions, plans or the tenant reaches every node through NOTIFY.`,
          params: FeatureParams,
          body: CheckRequest,
          response: { 200: envelope(CheckResult), ...errors(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const entitlements = await visible(request, request.params.tenant);
        if (!entitlements.productFeatures.has(request.params.feature)) throw new AppError('feature.not_found', { parameter: 'feature' });
        return ok(checkEntitlement(entitlements, request.params.feature, request.body.quantity ?? 1));
      },
    );
  });

  app.post(
    '/v1/tenants/:tenant/usage/adjustments',
    {
      schema: {
        tags,
        summary: 'Correct a tenant’s usage',
        description:
          'Operators only. Adds a signed quantity, with a reason, to the window that contains `timestamp` (now when omitted); events are never edited. Audited; a threshold reached or left by the correction emits its event.',
        params: TenantParams,
        body: AdjustmentCreate,
        response: { 201: envelope(Adjustment), ...errors(400, 401, 403, 404, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const result = await db.transaction().execute((tx) => adjustUsage(tx, deps, callerOf(request), request.params.tenant, request.body));
      cache.forget([result.tenantId]);
      return reply.code(201).send(ok(result.view));
    },
  );

  const ProductParams = RefParam('product', 'Product id or name');
  app.get(
    '/v1/products/:product/usage-settings',
    {
      schema: {
        tags,
        summary: 'A product’s usage settings',
        params: ProductParams,
        response: { 200: envelope(UsageSettings), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(await getUsageSettings(db, principalOf(request), request.params.product)),
  );
  app.put(
    '/v1/products/:product/usage-settings',
    {
      schema: {
        tags,
        summary: 'Change a product’s usage settings',
        description: 'Operators only. `graceMinutes` (default 60): how long after its window ends a late event is still accepted.',
        params: ProductParams,
        body: UsageSettings,
        response: { 200: envelope(UsageSettings), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request) =>
      ok(await db.transaction().execute((tx) => putUsageSettings(tx, callerOf(request), request.params.product, request.body))),
  );
  return cache;
}
