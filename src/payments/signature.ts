import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a payment provider signs its events with: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'landlord-signature';
/** How far an event's signing time may be from Landlord's clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The signature of `body` sent at `seconds`: HMAC-SHA256 over `<seconds>.<body>` with the provider's secret. */
export function signPaymentEvent(secret: string, body: string, seconds: number): string {
  const mac = createHmac('sha256', secret).update(`${seconds}.${body}`).digest('hex');
  return `t=${seconds},v1=${mac}`;
}

/**
 * Whether `header` signs the raw `body` with `secret`, within the tolerance of `now`
 * (an old signature replayed later is refused; de-duplication by event id does the rest).
 */
export function verifyPaymentEvent(secret: string, body: string, header: string | undefined, now: Date): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const seconds = Number(parts.t);
  if (!Number.isInteger(seconds) || Math.abs(now.getTime() / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signPaymentEvent(secret, body, seconds).split('v1=')[1] ?? '', 'hex');
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
