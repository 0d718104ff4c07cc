/**
 * When the n-th attempt of a delivery is made, counted from the first failure, as
 * dedicated webhook services schedule it: at once, then about 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h and 10 h later — eight attempts over about a day and a half.
 */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;

/** Attempts a delivery gets in all (the first, then one per delay). */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** An endpoint that has failed without a single success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 60 * 60 * 1000;

/**
 * The pause before attempt `attempts + 1`, with ±20 % jitter so that deliveries
 * failing together do not retry together; `undefined` when the attempts are spent.
 */
export function nextDelayMs(attempts: number, random: () => number): number | undefined {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.8 + 0.4 * random()));
}
