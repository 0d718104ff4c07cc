import { type Static, Type } from 'typebox';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { Nullable } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import type { Clock } from '../platform/clock.ts';
import { newId } from '../platform/ids.ts';
import { IdParams, roomleErrors, roomleTags as tags, wrapped } from './roomle.schemas.ts';
import { type RoomleCaller, roomleCallerOf } from './roomle-auth.ts';
import { roomleOk } from './roomle-http.ts';
import { resolveTenant } from './roomle-tenants.service.ts';

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const Address = Type.Object(
  {
    line1: Type.Optional(Text(200)),
    line2: Type.Optional(Text(200)),
    postalCode: Type.Optional(Text(20)),
    city: Type.Optional(Text(100)),
    state: Type.Optional(Text(100)),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
  },
  { additionalProperties: false },
);
const BillingInput = Type.Object(
  {
    name: Text(200),
    company: Type.Optional(Nullable(Text(200))),
    email: Type.String({ format: 'email', maxLength: 254 }),
    address: Type.Optional(Address),
    vatId: Type.Optional(Nullable(Type.String({ pattern: '^[A-Za-z0-9 .-]{2,30}$' }))),
    currency: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{3}$' }))),
  },
  { additionalProperties: false },
);
const BillingContainer = Type.Object({ billingInformation: BillingInput }, { additionalProperties: false });
const BillingView = Type.Object({
  id: Type.Integer({ description: 'The tenant’s number (one profile per tenant)' }),
  name: Type.String(),
  company: Nullable(Type.String()),
  email: Type.String(),
  address: Address,
  vatId: Nullable(Type.String()),
  currency: Nullable(Type.String()),
  created: Type.String({ format: 'date-time' }),
  updated: Type.String({ format: 'date-time' }),
});
const ConnectionInput = Type.Object(
  { provider: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }), store: Text(100), customerReference: Text(200) },
  { additionalProperties: false },
);
const ConnectionView = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  store: Type.String(),
  customerReference: Type.String(),
  created: Type.String({ format: 'date-time' }),
  updated: Type.String({ format: 'date-time' }),
});
const SessionRequest = Type.Object(
  { store: Text(100), provider: Type.Optional(Text(32)), returnUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })) },
  { additionalProperties: false },
);

type Profile = Awaited<ReturnType<typeof findProfile>>;
async function findProfile(db: Db, tenantId: string) {
  return db.selectFrom('billing_profiles').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

function profileView(number: number, row: NonNullable<Profile>): Static<typeof BillingView> {
  return {
    id: Number(number),
    name: row.name,
    company: row.company,
    email: row.email,
    address: row.address as Static<typeof Address>,
    vatId: row.vat_id,
    currency: row.currency,
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
  };
}

function connectionView(row: {
  id: string;
  provider: string;
  store: string;
  customer_reference: string;
  created_at: Date;
  updated_at: Date;
}) {
  return {
    id: row.id,
    provider: row.provider,
    store: row.store,
    customerReference: row.customer_reference,
    created: row.created_at.toISOString(),
    updated: row.updated_at.toISOString(),
  };
}

/**
 * Writes the tenant's billing profile (POST: only when it has none; PUT: create or
 * replace). Landlord keeps it itself where Roomle forwards it to Stripe.
 */
async function writeProfile(
  db: Db,
  clock: Clock,
  who: RoomleCaller,
  id: string,
  input: Static<typeof BillingInput>,
  mode: 'create' | 'replace',
) {
  const tenant = await resolveTenant(db, who, id, 'tenant_management');
  const now = clock.now();
  const values = {
    name: input.name,
    company: input.company ?? null,
    email: input.email,
    address: JSON.stringify(input.address ?? {}),
    vat_id: input.vatId ?? null,
    currency: input.currency ?? null,
    updated_at: now,
  };
  const before = await db.selectFrom('billing_profiles').selectAll().where('tenant_id', '=', tenant.id).forUpdate().executeTakeFirst();
  if (before && mode === 'create') throw new AppError('billing_profile.exists', { parameter: 'billingInformation' });
  const row = before
    ? await db
        .updateTable('billing_profiles')
        .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
        .where('tenant_id', '=', tenant.id)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await db
        .insertInto('billing_profiles')
        .values({ ...values, tenant_id: tenant.id, product_id: tenant.product_id, created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
  const view = profileView(tenant.number, row);
  await insertAuditRecord(db, who.caller.actor, {
    action: before ? 'billing_profile.update' : 'billing_profile.create',
    objectType: 'billing_profile',
    objectId: tenant.id,
    productId: tenant.product_id,
    tenantId: tenant.id,
    before: before && profileView(tenant.number, before),
    after: view,
  });
  return { view, created: !before };
}

/** Billing information, payment connections and billing-portal sessions of a tenant. */
export function registerRoomleBillingRoutes(app: HttpApp, db: Db, deps: { clock: Clock }): void {
  const billing = wrapped('billingInformation', BillingView);
  app.get(
    '/v2/tenants/:id/billingInformation',
    {
      schema: {
        tags,
        summary: 'The tenant’s billing information',
        description: 'The current tenant (any right); operators of its product. Landlord keeps the profile itself; invoices use it.',
        params: IdParams,
        response: { 200: billing, ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const tenant = await resolveTenant(db, who, request.params.id);
      const row = await findProfile(db, tenant.id);
      if (!row) throw new AppError('billing_profile.not_found', { parameter: 'id' });
      return roomleOk(deps.clock, 'billingInformation', profileView(tenant.number, row));
    },
  );
  for (const [method, mode] of [
    ['post', 'create'],
    ['put', 'replace'],
  ] as const) {
    app[method](
      '/v2/tenants/:id/billingInformation',
      {
        schema: {
          tags,
          summary: mode === 'create' ? 'Set the tenant’s billing information' : 'Replace the tenant’s billing information',
          description: `Tenant management rights. ${mode === 'create' ? '409 when the tenant has one already.' : 'Creates it when missing.'}`,
          params: IdParams,
          body: BillingContainer,
          response: { 200: billing, 201: billing, ...roomleErrors(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const who = roomleCallerOf(request);
        const written = await db
          .transaction()
          .execute((tx) => writeProfile(tx, deps.clock, who, request.params.id, request.body.billingInformation, mode));
        return reply.code(written.created ? 201 : 200).send(roomleOk(deps.clock, 'billingInformation', written.view));
      },
    );
  }

  app.get(
    '/v2/tenants/:id/paymentConnections',
    {
      schema: {
        tags,
        summary: 'The tenant’s payment connections',
        description: 'tenant_payment rights.',
        params: IdParams,
        response: { 200: wrapped('paymentConnections', Type.Array(ConnectionView)), ...roomleErrors(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = await resolveTenant(db, roomleCallerOf(request), request.params.id, 'tenant_payment');
      const rows = await db
        .selectFrom('payment_connections')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return roomleOk(deps.clock, 'paymentConnections', rows.map(connectionView), rows.length);
    },
  );

  app.post(
    '/v2/tenants/:id/paymentConnections',
    {
      schema: {
        tags,
        summary: 'Add or update a payment connection',
        description:
          'Tenant management rights, current tenant only. One connection per provider and store: sending it again updates the customer reference.',
        params: IdParams,
        body: Type.Object({ paymentConnection: ConnectionInput }, { additionalProperties: false }),
        response: { 200: wrapped('paymentConnection', ConnectionView), ...roomleErrors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const who = roomleCallerOf(request);
      const input = request.body.paymentConnection;
      const view = await db.transaction().execute(async (tx) => {
        const tenant = await resolveTenant(tx, who, request.params.id, 'tenant_management');
        const now = deps.clock.now();
        const row = await tx
          .insertInto('payment_connections')
          .values({
            id: newId(),
            tenant_id: tenant.id,
            product_id: tenant.product_id,
            provider: input.provider,
            store: input.store,
            customer_reference: input.customerReference,
            created_at: now,
            updated_at: now,
          })
          .onConflict((conflict) =>
            conflict
              .columns(['tenant_id', 'provider', 'store'])
              .doUpdateSet({ customer_reference: input.customerReference, updated_at: now }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        await insertAuditRecord(tx, who.caller.actor, {
          action: 'payment_connection.save',
          objectType: 'payment_connection',
          objectId: row.id,
          productId: tenant.product_id,
          tenantId: tenant.id,
          after: connectionView(row),
        });
        return connectionView(row);
      });
      return roomleOk(deps.clock, 'paymentConnection', view);
    },
  );

  app.post(
    '/v2/tenants/:id/paymentConnectionSessions',
    {
      schema: {
        tags,
        summary: 'Open a billing-portal session',
        description:
          'Tenant management rights. Checks the tenant’s payment connection for the store, then asks the configured payment provider for a billing-portal session (its id and creation time). With no provider configured, or one that only sends events (the only kind Landlord has), 501 saying which.',
        params: IdParams,
        body: SessionRequest,
        response: roomleErrors(400, 401, 403, 404, 429, 501),
      },
    },
    async (request) => {
      const tenant = await resolveTenant(db, roomleCallerOf(request), request.params.id, 'tenant_management');
      let query = db
        .selectFrom('payment_connections')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .where('store', '=', request.body.store);
      if (request.body.provider) query = query.where('provider', '=', request.body.provider);
      if (!(await query.executeTakeFirst())) throw new AppError('payment_connection.not_found', { parameter: 'store' });
      // The payment-provider seam takes the provider's inbound events; it has no billing-portal sessions to ask for.
      const provider = await db
        .selectFrom('payment_providers')
        .select('provider')
        .where('product_id', '=', tenant.product_id)
        .executeTakeFirst();
      if (!provider) throw new AppError('roomle.no_payment_provider');
      throw new AppError('roomle.no_billing_portal', {
        message: `The payment provider "${provider.provider}" is configured for inbound payment events only: Landlord cannot open billing-portal sessions with it`,
      });
    },
  );
}
