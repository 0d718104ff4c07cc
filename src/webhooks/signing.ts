import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new endpoint secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks specifies. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks headers of one delivery attempt: `webhook-id` (the event id,
 * the same on every retry), `webhook-timestamp`, and `webhook-signature` with one
 * `v1,<signature>` per secret that applies (the current one, and the previous one
 * during a rotation's grace period), separated by spaces.
 */
export function signDelivery(secrets: readonly string[], eventId: string, at: Date, body: string): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(eventId, at, body));
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
