import { Type } from 'typebox';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { callerOf } from '../http/caller.ts';
import { envelope, errors, ok } from '../http/envelope.ts';
import { RefParam } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { findProduct } from '../products/products.repo.ts';
import { getPaymentProvider, type PaymentDeps, providerView, setPaymentProvider, takePaymentEvent } from './payments.service.ts';
import { SIGNATURE_HEADER } from './signature.ts';

const tags = ['Payments'];
const ProductParams = RefParam('product', 'Product id or name');

const ProviderInput = Type.Object(
  {
    provider: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$', description: 'The payment provider’s name, recorded with each payment' }),
    secret: Type.String({ minLength: 16, maxLength: 200, description: 'The secret the provider signs its events with (write only)' }),
    collection: Type.Optional(
      Type.Enum(['none', 'automatic'] as const, {
        description:
          '`none` (default): Landlord records, the product collects; `automatic`: an unpaid invoice makes the subscription past_due',
      }),
    ),
    graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: 'Days an invoice may stay unpaid (7 by default)' })),
  },
  { additionalProperties: false },
);
const Provider = Type.Object({
  productId: Type.String(),
  provider: Type.String(),
  collection: Type.Enum(['none', 'automatic'] as const),
  graceDays: Type.Integer(),
  version: Type.Integer(),
});
const EventInput = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200, description: 'The provider’s event id: an event is taken once' }),
  type: Type.String({ minLength: 1, maxLength: 100, description: '`payment.succeeded` records a payment; others are kept' }),
  data: Type.Optional(
    Type.Object({
      invoiceId: Type.Optional(Type.String({ maxLength: 100 })),
      amount: Type.Optional(Type.Integer()),
      currency: Type.Optional(Type.String({ maxLength: 3 })),
      reference: Type.Optional(Type.String({ maxLength: 200 })),
    }),
  ),
});
const EventAnswer = Type.Object({ duplicate: Type.Boolean(), applied: Type.Boolean(), outcome: Type.String() });

/** The payment-provider seam: a product's provider settings, and the signed inbound event route. */
export async function registerPaymentRoutes(app: HttpApp, db: Db, deps: PaymentDeps): Promise<void> {
  app.put(
    '/v1/products/:product/payment-provider',
    {
      schema: {
        tags,
        summary: 'Set the payment provider of a product',
        description: 'Operators only. Landlord charges no cards: the provider collects, and posts signed events to `…/payment-events`.',
        params: ProductParams,
        body: ProviderInput,
        response: { 200: envelope(Provider), ...errors(400, 401, 403, 404, 413, 429) },
      },
    },
    async (request) => {
      const row = await db
        .transaction()
        .execute((tx) => setPaymentProvider(tx, deps, callerOf(request), request.params.product, request.body));
      return ok(providerView(row));
    },
  );

  app.get(
    '/v1/products/:product/payment-provider',
    {
      schema: {
        tags,
        summary: 'Get the payment provider of a product',
        params: ProductParams,
        response: { 200: envelope(Provider), ...errors(401, 404, 429) },
      },
    },
    async (request) => ok(providerView(await getPaymentProvider(db, callerOf(request), request.params.product))),
  );

  // The signature is over the raw body: this scope keeps it.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      (request as unknown as { rawBody: string }).rawBody = body as string;
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError('request.malformed_json'), undefined);
      }
    });
    (scope as unknown as HttpApp).post(
      '/v1/products/:product/payment-events',
      {
        config: { public: true },
        schema: {
          tags,
          summary: "Take an event of the product's payment provider",
          description: `Signed by the provider: \`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">\` with the product's provider secret (401 otherwise, nothing written). Each event id is taken once; \`payment.succeeded\` records a payment on the invoice (idempotent on the provider and \`reference\`).`,
          params: ProductParams,
          body: EventInput,
          response: { 200: envelope(EventAnswer), ...errors(400, 401, 413, 429) },
        },
      },
      async (request) => {
        const product = await findProduct(db, request.params.product);
        if (!product) throw new AppError('payment_event.invalid_signature', { parameter: SIGNATURE_HEADER });
        const header = request.headers[SIGNATURE_HEADER];
        const raw = (request as unknown as { rawBody?: string }).rawBody ?? '';
        return ok(await takePaymentEvent(db, deps, product.id, raw, Array.isArray(header) ? header[0] : header, request.body));
      },
    );
  });
}
