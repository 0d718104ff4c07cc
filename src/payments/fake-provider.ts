import { signPaymentEvent } from './signature.ts';

/** What Landlord answers an event. */
export interface FakeAnswer {
  data?: { duplicate: boolean; applied: boolean; outcome: string };
  metadata: { errors: { code: string }[] };
}

/**
 * A payment provider for tests and trials: signs events as a real one would and posts
 * them to a product's `payment-events` route. `send` may repeat or reorder events.
 */
export function fakePaymentProvider(options: { baseUrl: string; product: string; secret: string; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return {
    /** Posts one event, signed (or signed with `withSecret`, to test refusals); returns the status and JSON answer. */
    async send(event: { id: string; type: string; data?: Record<string, unknown> }, withSecret = options.secret) {
      const body = JSON.stringify(event);
      const signature = signPaymentEvent(withSecret, body, Math.floor(now().getTime() / 1000));
      const response = await fetch(`${options.baseUrl}/v1/products/${options.product}/payment-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'landlord-signature': signature },
        body,
      });
      return { status: response.status, body: (await response.json()) as FakeAnswer };
    },
    /** A `payment.succeeded` event for `amount` of `invoiceId`, with the provider's `reference`. */
    payment(id: string, invoiceId: string, amount: number, reference: string) {
      return { id, type: 'payment.succeeded', data: { invoiceId, amount, reference } };
    },
  };
}
