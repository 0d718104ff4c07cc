import type { CallKind } from '../backend-calls/call-kind.ts';

/**
 * The notice that a tenant became unavailable: the product's `unavailable` URL with
 * `{"tenantName"}`, once per outage (its idempotency key is the outage id). It asks for
 * nothing back: its answer is only recorded, and it is retried like any call.
 */
export const UNAVAILABLE_NOTICE: CallKind = {
  name: 'unavailable',
  url: 'unavailable',
  prepare: (_db, context) => ({ body: { tenantName: context.name } }),
  stillWanted: () => true,
};
