import fc from 'fast-check';
import { v7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { idFloorAt, newId, recentIdFloor } from './ids.ts';

// PostgreSQL orders uuids byte by byte, as lower-case hex strings compare.
const MAX_MS = 2 ** 48 - 1;
const v7At = (msecs: number, random: Uint8Array, seq: number) => v7({ msecs, random, seq });

describe('idFloorAt', () => {
  it('sorts at or below every id made at that millisecond or later, and above every id made before it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_MS - 1 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (ms, random, seq) => {
          expect(idFloorAt(ms) <= v7At(ms, random, seq)).toBe(true);
          expect(idFloorAt(ms) > v7At(ms - 1, random, seq)).toBe(true);
        },
      ),
    );
  });

  it('grows with time and lies below the ids being made now', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS - 1 }), (ms) => {
        expect(idFloorAt(ms) < idFloorAt(ms + 1)).toBe(true);
      }),
    );
    expect(idFloorAt(Date.now() - 1) < newId()).toBe(true);
    expect(recentIdFloor(1) < newId()).toBe(true);
    expect(recentIdFloor(60_000) < recentIdFloor(0)).toBe(true);
  });
});
