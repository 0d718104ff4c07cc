import fc from 'fast-check';
import { expect, it } from 'vitest';
import { differentFrom } from './different.ts';

it('never gives back the value it was given, and keeps its length and alphabet', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), (original) => {
      const changed = differentFrom(original);
      expect(changed).not.toBe(original);
      expect(changed).toHaveLength(original.length);
      expect(changed.slice(0, -1)).toBe(original.slice(0, -1));
    }),
  );
  expect(differentFrom('abcx')).toBe('abca');
  expect(differentFrom('abca')).toBe('abcb');
});
