import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from './secret-box.ts';

describe('createSecretBox', () => {
  it('opens what it sealed, again and again, past the bound of what it remembers', () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = Array.from({ length: 2500 }, (_, index) => ({ plaintext: `secret-${index}`, sealed: box.seal(`secret-${index}`) }));
    for (let round = 0; round < 2; round++) for (const item of sealed) expect(box.open(item.sealed)).toBe(item.plaintext);
  });

  it('refuses sealed bytes that were changed, or sealed under another key, even after opening the original', () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = box.seal('the api key');
    expect(box.open(sealed)).toBe('the api key');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(() => box.open(tampered)).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed)).toThrow();
  });
});
