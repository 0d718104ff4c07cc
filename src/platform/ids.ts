import { getRandomValues } from 'node:crypto';
import { v7 } from 'uuid';

// The random bytes of ids come from a pool refilled 4 KiB at a time: asking for 16 bytes per id was a seventh of the
// renewals sweep's CPU (six ids per renewal).
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;
// The uuid package's own v7 state, kept here because it only keeps it when it draws the random bytes itself: within
// one millisecond the 32-bit counter counts up from a random start, so ids made by this process stay in order.
const state = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/** A new time-ordered id (UUIDv7), so primary keys double as a stable page order. */
export const newId = (): string => {
  if (poolAt + 16 > POOL.length) {
    getRandomValues(POOL);
    poolAt = 0;
  }
  const random = POOL.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  const now = Date.now();
  if (now > state.msecs) {
    state.msecs = now;
    state.seq =
      (((random[6] as number) & 0x7f) << 24) | ((random[7] as number) << 16) | ((random[8] as number) << 8) | (random[9] as number);
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs += 1;
  }
  return v7({ random, msecs: state.msecs, seq: state.seq });
};

/**
 * The smallest id `newId` could make at `ms` (epoch milliseconds): every id made at or after that moment, by a node
 * whose clock agrees, sorts at or above it. Ids carry the real time of their making, not a product's clock.
 */
export const idFloorAt = (ms: number): string => {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
};

/**
 * The floor of the ids this node made in the last `ageMs`. It reads the wall clock `newId` reads (an id's time is
 * when it was made, whatever a product's clock says), so the two stay alike.
 */
export const recentIdFloor = (ageMs: number): string => idFloorAt(Date.now() - ageMs);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` has the shape of a UUID (and so is looked up as an id, not a name). */
export const isUuid = (value: string): boolean => UUID.test(value);
