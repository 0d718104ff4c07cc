/**
 * Billing-portal sessions through the payment-provider seam (issue #14): a provider configured with a
 * portal-session URL is asked, per request, for a session for one tenant's payment connection. Landlord never
 * charges cards itself: it only relays the provider's session id and creation time.
 */
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { SIGNATURE_HEADER, signPaymentEvent } from './signature.ts';

/** What opening a session needs. */
export interface PortalSessionDeps {
  clock: Clock;
  box: SecretBox;
  http: OutboundHttp;
}

/** The provider as stored (`payment_providers`). */
export interface PortalProvider {
  provider: string;
  secret_encrypted: Buffer;
  portal_session_url: string | null;
}

/** A session the provider opened. */
export interface PortalSession {
  id: string;
  created: string;
}

const TIMEOUT_MS = 10_000;

/**
 * Asks the provider for a billing-portal session: POSTs `{ customerReference, store, returnUrl }` to its
 * portal-session URL, signed like its events (`landlord-signature`, HMAC with the provider's secret) so the
 * provider knows the request is Landlord's. The URL is the operator's input, so it goes through the egress check
 * (`untrusted`). Any failure — refused, unreachable, not 2xx, no `id` — is a 502 naming the provider.
 */
export async function openPortalSession(
  deps: PortalSessionDeps,
  provider: PortalProvider & { portal_session_url: string },
  request: { customerReference: string; store: string; returnUrl?: string },
): Promise<PortalSession> {
  const body = JSON.stringify({ customerReference: request.customerReference, store: request.store, returnUrl: request.returnUrl ?? null });
  const signature = signPaymentEvent(deps.box.open(provider.secret_encrypted), body, Math.floor(deps.clock.now().getTime() / 1000));
  const result = await deps.http.send({
    method: 'POST',
    url: provider.portal_session_url,
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    body,
    timeoutMs: TIMEOUT_MS,
    maxResponseBytes: 64 * 1024,
    untrusted: true,
  });
  const fail = (why: string) =>
    new AppError('payment_provider.failed', {
      message: `The payment provider "${provider.provider}" did not open a billing-portal session: ${why}`,
    });
  if (!result.ok) throw fail(result.error);
  if (result.status < 200 || result.status > 299) throw fail(`it answered HTTP ${result.status}`);
  let answer: { id?: unknown; created?: unknown };
  try {
    answer = JSON.parse(result.body) as typeof answer;
  } catch {
    throw fail('its answer is not JSON');
  }
  if (typeof answer?.id !== 'string' || answer.id.length === 0 || answer.id.length > 500) throw fail('its answer has no session id');
  // Providers give the creation time as ISO text or Unix seconds; Landlord's own clock stands in when they give none.
  const created =
    typeof answer.created === 'number'
      ? new Date(answer.created * 1000)
      : typeof answer.created === 'string'
        ? new Date(answer.created)
        : deps.clock.now();
  if (Number.isNaN(created.getTime())) throw fail('its session creation time is not a time');
  return { id: answer.id, created: created.toISOString() };
}
