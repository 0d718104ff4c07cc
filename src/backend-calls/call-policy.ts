import type { OutboundResult } from '../platform/outbound.ts';

/** What one attempt of a call to the backend amounted to. */
export type CallOutcome = 'success' | 'transient' | 'permanent';

/** The default pause before the 2nd attempt; it doubles each time (30 s → 32 min; 8 attempts ≈ 1 hour). */
export const DEFAULT_RETRY_BASE_MS = 30_000;
// A Retry-After longer than a day is a misconfiguration, not a plan.
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * A 2xx is success. A connection error, a timeout, 408, 429 or a 5xx may pass and is
 * retried. Anything else (3xx, other 4xx, a URL that cannot be called) is a refusal.
 */
export function classifyCall(result: OutboundResult): CallOutcome {
  if (!result.ok) return result.code === 'ERR_INVALID_URL' || result.code === 'UND_ERR_INVALID_ARG' ? 'permanent' : 'transient';
  if (result.status >= 200 && result.status < 300) return 'success';
  if (result.status === 408 || result.status === 429 || result.status >= 500) return 'transient';
  return 'permanent';
}

/**
 * How long to wait before attempt `attempt + 1`: the backend's `Retry-After` when it
 * sent one (seconds or an HTTP date), else exponential backoff from `baseMs` with
 * ±20 % jitter so that many tenants failing together do not retry together.
 */
export function retryDelayMs(attempt: number, options: { baseMs: number; retryAfter?: string; now: Date; random: () => number }): number {
  const asked = options.retryAfter === undefined ? undefined : parseRetryAfter(options.retryAfter, options.now);
  if (asked !== undefined) return Math.min(asked, MAX_RETRY_AFTER_MS);
  const exponential = options.baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(exponential * (0.8 + 0.4 * options.random()));
}

/** Milliseconds a `Retry-After` header asks for, or `undefined` when it is not readable. */
export function parseRetryAfter(value: string, now: Date): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
