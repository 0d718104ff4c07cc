/**
 * A value that is certainly not `original`: its last character swapped for another one of the same kind.
 *
 * Tests make "wrong" secrets and tokens from real ones; replacing the last character with a fixed one
 * (`x`) gives back the real value whenever the generated one already ends in it (about one run in
 * alphabet-size), which made a verify test fail one CI run in sixty.
 */
export function differentFrom(original: string): string {
  const last = original.at(-1) ?? '';
  const alternatives = /[0-9]/.test(last) ? '0123456789' : /[A-Z]/.test(last) ? 'ABCDEFGHIJ' : 'abcdefghij';
  const replacement = [...alternatives].find((candidate) => candidate !== last) as string;
  const changed = `${original.slice(0, -1)}${replacement}`;
  if (changed === original) throw new Error('differentFrom made the same value');
  return changed;
}
