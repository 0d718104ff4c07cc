import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { setETag } from '../http/etag.ts';
import { RefParam } from '../http/schemas.ts';
import { type HttpApp, principalOf } from '../http/types.ts';
import { Tenant } from '../tenants/tenants.schemas.ts';
import { toTenantView } from '../tenants/tenants.service.ts';
import { HealthSettingsBody, PauseBody, ProbeNowResult, ProductHealthSummary, SummaryQuery, TenantHealthReport } from './health.schemas.ts';
import {
  type HealthDeps,
  healthSummary,
  probeTenantNow,
  setProductHealthPaused,
  setTenantHealthUrl,
  setTenantPaused,
  tenantHealthReport,
} from './health.service.ts';

const tags = ['Health'];
const TenantParams = RefParam('tenant', 'Tenant id or name');
const ProductParams = RefParam('product', 'Product id or system name');
const tenantResponses = { 200: envelope(Tenant), ...errors(400, 401, 403, 404, 413, 429) };

/**
 * Tenant health: the report of one tenant, the summary per product, and the
 * operator's controls (pause and resume a tenant or a product, a tenant's own URL,
 * probe now). Every control is audited.
 */
export function registerHealthRoutes(app: HttpApp, db: Db, deps: HealthDeps): void {
  app.get(
    '/v1/tenants/:tenant/health',
    {
      schema: {
        tags,
        summary: "A tenant's health",
        description:
          'Current state, uptime and latency percentiles over 24 h, 7 d and 30 d (hourly totals), the latest availability changes and the latest failed probes.',
        params: TenantParams,
        response: { 200: envelope(TenantHealthReport), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(await tenantHealthReport(db, principalOf(request), request.params.tenant, deps.clock.now())),
  );

  app.get(
    '/v1/health/summary',
    {
      schema: {
        tags,
        summary: 'Health of every product',
        description: 'Per product the caller may see: live tenants by health state, how many are paused, and the worst tenants.',
        querystring: SummaryQuery,
        response: { 200: envelope(Type.Array(ProductHealthSummary)), ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => ok(await healthSummary(db, principalOf(request), request.query)),
  );

  for (const paused of [true, false]) {
    app.post(
      `/v1/tenants/:tenant/health/${paused ? 'pause' : 'resume'}`,
      {
        schema: {
          tags,
          summary: paused ? "Pause a tenant's health probing (maintenance)" : "Resume a tenant's health probing",
          description: paused
            ? 'No probes, no outage and no unavailable call until resumed. Also for a tenant that is not live yet.'
            : 'A live tenant is probed at once.',
          params: TenantParams,
          body: Type.Optional(PauseBody),
          response: tenantResponses,
        },
      },
      async (request, reply) => {
        const record = await db
          .transaction()
          .execute((tx) => setTenantPaused(tx, deps, callerOf(request), request.params.tenant, paused, request.body?.reason));
        setETag(reply, record);
        return ok(toTenantView(record, principalOf(request)));
      },
    );

    app.post(
      `/v1/products/:product/health/${paused ? 'pause' : 'resume'}`,
      {
        schema: {
          tags,
          summary: paused ? "Pause health probing of a product's tenants (maintenance)" : "Resume health probing of a product's tenants",
          description: paused
            ? 'Tenants that go live while the product is paused are paused too.'
            : 'Every tenant of the product goes back to its slot, spread over the interval (also how to start at once after giving the product a health-check URL: tenants of a product without one are looked at hourly).',
          params: ProductParams,
          body: Type.Optional(PauseBody),
          response: {
            200: envelope(
              Type.Object({
                product: Type.Object({ id: Type.String(), name: Type.String() }),
                paused: Type.Boolean(),
                tenants: Type.Integer({ description: 'Health rows changed' }),
              }),
            ),
            ...errors(400, 401, 403, 404, 413, 429),
          },
        },
      },
      async (request) =>
        ok(
          await db
            .transaction()
            .execute((tx) => setProductHealthPaused(tx, deps, callerOf(request), request.params.product, paused, request.body?.reason)),
        ),
    );
  }

  app.patch(
    '/v1/tenants/:tenant/health',
    {
      schema: {
        tags,
        summary: "Set a tenant's own health-check URL",
        description:
          "Overrides the product's URL for this tenant (`{name}` and `{tenantId}` are filled in); `null` returns to the product's. The tenant's URL is called as untrusted: private and loopback addresses are refused unless `LANDLORD_EGRESS_ALLOW` allows them.",
        params: TenantParams,
        body: HealthSettingsBody,
        response: tenantResponses,
      },
    },
    async (request, reply) => {
      const record = await db
        .transaction()
        .execute((tx) => setTenantHealthUrl(tx, deps, callerOf(request), request.params.tenant, request.body.url));
      setETag(reply, record);
      return ok(toTenantView(record, principalOf(request)));
    },
  );

  app.post(
    '/v1/tenants/:tenant/health/probe',
    {
      schema: {
        tags,
        summary: 'Probe a tenant now',
        description:
          'Probes a live, unpaused tenant at once and records the result like any probe (it can start or end an outage). 409 when the tenant is not live, paused, or being probed right now.',
        params: TenantParams,
        response: { 200: envelope(ProbeNowResult), ...errors(401, 403, 404, 409, 429) },
      },
    },
    async (request) => ok(await probeTenantNow(db, deps, callerOf(request), request.params.tenant)),
  );
}
