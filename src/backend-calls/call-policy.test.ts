import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyCall, DEFAULT_RETRY_BASE_MS, parseRetryAfter, retryDelayMs } from './call-policy.ts';

const answer = (status: number) => ({ ok: true as const, status, headers: {}, body: '', truncated: false, durationMs: 1 });
const now = new Date('2026-01-01T00:00:00Z');

describe('classifyCall', () => {
  it('treats 2xx as success, 408/429/5xx and connection errors as transient, other answers as refusals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
        const outcome = classifyCall(answer(status));
        if (status >= 200 && status < 300) expect(outcome).toBe('success');
        else if (status === 408 || status === 429 || status >= 500) expect(outcome).toBe('transient');
        else expect(outcome).toBe('permanent');
      }),
    );
    expect(classifyCall({ ok: false, code: 'ECONNREFUSED', error: 'refused', durationMs: 1 })).toBe('transient');
    expect(classifyCall({ ok: false, code: 'TIMEOUT', error: 'slow', durationMs: 1 })).toBe('transient');
    expect(classifyCall({ ok: false, code: 'ERR_INVALID_URL', error: 'bad', durationMs: 1 })).toBe('permanent');
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base with at most 20 % jitter either way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, random) => {
        const delay = retryDelayMs(attempt, { baseMs: 1000, now, random: () => random });
        const nominal = 1000 * 2 ** (attempt - 1);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
      }),
    );
  });

  it('spreads the default 8 attempts over about an hour', () => {
    let total = 0;
    for (let attempt = 1; attempt < 8; attempt++) total += retryDelayMs(attempt, { baseMs: DEFAULT_RETRY_BASE_MS, now, random: () => 0.5 });
    expect(total / 60_000).toBeGreaterThan(50);
    expect(total / 60_000).toBeLessThan(75);
  });

  it('honours Retry-After in seconds and as an HTTP date', () => {
    expect(retryDelayMs(1, { baseMs: 1000, retryAfter: '7', now, random: Math.random })).toBe(7000);
    const inTwoMinutes = new Date(now.getTime() + 120_000).toUTCString();
    expect(retryDelayMs(1, { baseMs: 1000, retryAfter: inTwoMinutes, now, random: Math.random })).toBe(120_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryDelayMs(3, { baseMs: 1000, retryAfter: 'soon', now, random: () => 0.5 })).toBe(4000);
  });
});
