/**
 * The payment-provider seam. Landlord charges no cards: a product names the provider
 * that collects for it and the secret the provider signs its events with; the provider
 * posts signed events, each taken once (by its id), and a succeeded payment is recorded
 * on its invoice through the same path as `POST /v1/invoices/{id}/payments` (idempotent
 * on provider + reference, so events arriving twice or out of order add each payment once).
 */
import { type Caller, requireRole } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import { recordPayment } from '../commerce/invoices.service.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { getVisibleProduct } from '../products/products.service.ts';
import { SIGNATURE_HEADER, verifyPaymentEvent } from './signature.ts';

/** What the seam needs. */
export interface PaymentDeps {
  clock: Clock;
  box: SecretBox;
}

/** A product's provider settings as the API shows them (never the secret). */
export function providerView(row: { product_id: string; provider: string; collection: string; grace_days: number; version: number }) {
  return {
    productId: row.product_id,
    provider: row.provider,
    collection: row.collection as 'none' | 'automatic',
    graceDays: row.grace_days,
    version: row.version,
  };
}

/** Names a product's payment provider, its signing secret and whether Landlord tracks collection (operators). */
export async function setPaymentProvider(
  db: Db,
  deps: PaymentDeps,
  caller: Caller,
  productRef: string,
  body: { provider: string; secret: string; collection?: 'none' | 'automatic'; graceDays?: number },
) {
  requireRole(caller.principal, 'super_admin', 'product_admin');
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const now = deps.clock.now();
  const row = await db
    .insertInto('payment_providers')
    .values({
      product_id: product.id,
      provider: body.provider,
      secret_encrypted: deps.box.seal(body.secret),
      collection: body.collection ?? 'none',
      grace_days: body.graceDays ?? 7,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('product_id').doUpdateSet((eb) => ({
        provider: eb.ref('excluded.provider'),
        secret_encrypted: eb.ref('excluded.secret_encrypted'),
        collection: eb.ref('excluded.collection'),
        grace_days: eb.ref('excluded.grace_days'),
        updated_at: now,
        version: eb('payment_providers.version', '+', 1),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  await insertAuditRecord(db, caller.actor, {
    action: 'product.set_payment_provider',
    objectType: 'product',
    objectId: product.id,
    productId: product.id,
    after: providerView(row),
  });
  return row;
}

/** A product's provider settings (404 `payment_provider.not_found` without any). */
export async function getPaymentProvider(db: Db, caller: Caller, productRef: string) {
  const product = await getVisibleProduct(db, caller.principal, productRef);
  const row = await db.selectFrom('payment_providers').selectAll().where('product_id', '=', product.id).executeTakeFirst();
  if (!row) throw new AppError('payment_provider.not_found', { parameter: 'product' });
  return row;
}

/** A provider's event, as it posts it. */
export interface PaymentEvent {
  id: string;
  type: string;
  data?: { invoiceId?: string; amount?: number; currency?: string; reference?: string };
}

/**
 * Takes one signed event of a product's provider: refused (401) unless its signature
 * over the raw body checks out with the product's secret; taken once by its id (a
 * resent event answers `duplicate`); a `payment.succeeded` records the payment on its
 * invoice of the product, in the transaction that claims the event id. An event that
 * cannot apply (the invoice is paid or void, the amount is more than is due) is kept
 * with the reason and answered 200, so the provider does not resend it for ever.
 * `db` is the pool: the claim and the payment are one transaction, the reason another.
 */
export async function takePaymentEvent(
  db: Db,
  deps: PaymentDeps,
  productId: string,
  raw: string,
  signature: string | undefined,
  event: PaymentEvent,
) {
  const provider = await db.selectFrom('payment_providers').selectAll().where('product_id', '=', productId).executeTakeFirst();
  if (!provider || !verifyPaymentEvent(deps.box.open(provider.secret_encrypted), raw, signature, deps.clock.now())) {
    throw new AppError('payment_event.invalid_signature', { parameter: SIGNATURE_HEADER });
  }
  const claim = (tx: Db, outcome: string) =>
    tx
      .insertInto('payment_events')
      .values({
        product_id: productId,
        provider: provider.provider,
        event_id: event.id,
        type: event.type,
        invoice_id: isUuid(event.data?.invoiceId ?? '') ? (event.data?.invoiceId ?? null) : null,
        outcome,
        received_at: deps.clock.now(),
      })
      .onConflict((oc) => oc.columns(['product_id', 'provider', 'event_id']).doNothing())
      .returning('event_id')
      .executeTakeFirst();
  try {
    return await db.transaction().execute(async (tx) => {
      const outcome = event.type === 'payment.succeeded' ? await applyPayment(tx, deps, productId, provider.provider, event) : 'noted';
      const claimed = await claim(tx, outcome);
      if (!claimed) return { duplicate: true, applied: false, outcome: 'duplicate' };
      return { duplicate: false, applied: outcome === 'applied', outcome };
    });
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    const outcome = `ignored: ${error.code}`;
    const claimed = await claim(db, outcome);
    return claimed ? { duplicate: false, applied: false, outcome } : { duplicate: true, applied: false, outcome: 'duplicate' };
  }
}

/** Records a succeeded payment as the provider (throws the refusal when it cannot apply). */
async function applyPayment(tx: Db, deps: PaymentDeps, productId: string, provider: string, event: PaymentEvent): Promise<string> {
  const data = event.data ?? {};
  if (!data.invoiceId || !data.reference || typeof data.amount !== 'number' || data.amount <= 0) {
    throw new AppError('request.invalid', { message: 'A payment names invoiceId, reference and a positive amount', parameter: 'data' });
  }
  const caller: Caller = {
    principal: { kind: 'client', id: `payment-provider:${provider}`, role: 'client', productId, name: provider },
    actor: { type: 'external_system', id: `payment-provider:${provider}`, requestId: null },
  };
  const result = await recordPayment(tx, deps, caller, data.invoiceId, {
    provider,
    reference: data.reference,
    amount: data.amount,
    ...(data.currency ? { currency: data.currency } : {}),
  });
  return result.replayed ? 'replayed' : 'applied';
}
