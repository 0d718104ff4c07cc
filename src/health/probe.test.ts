import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../platform/secret-box.ts';
import { DEFAULT_HEALTH_CHECK } from '../products/products.schemas.ts';
import { createApiKeyCache, createLimits, targetOf } from './probe.ts';

describe('createLimits', () => {
  it('never lets more than the limit hold a key, and hands places over first come, first served', async () => {
    const limits = createLimits();
    const order: number[] = [];
    let holding = 0;
    let most = 0;
    const work = async (index: number) => {
      await limits.acquire('host', 3);
      holding += 1;
      most = Math.max(most, holding);
      order.push(index);
      await new Promise((resolve) => setTimeout(resolve, 1));
      holding -= 1;
      limits.release('host');
    };
    await Promise.all(Array.from({ length: 3000 }, (_, index) => work(index)));
    expect(most).toBe(3);
    expect(order).toEqual(Array.from({ length: 3000 }, (_, index) => index));
    // Free again: a new holder gets in at once.
    let got = false;
    void limits.acquire('host', 1).then(() => {
      got = true;
    });
    await Promise.resolve();
    expect(got).toBe(true);
  });

  it('keeps keys apart', async () => {
    const limits = createLimits();
    await limits.acquire('a', 1);
    let b = false;
    void limits.acquire('b', 1).then(() => {
      b = true;
    });
    await Promise.resolve();
    expect(b).toBe(true);
  });
});

describe('targetOf', () => {
  const probe = { name: 'acme', tenantId: '0193a3c2-0000-7000-8000-00000000abcd', urlOverride: null };

  it("fills the product's URL, or calls the tenant's own as untrusted", () => {
    const settings = { ...DEFAULT_HEALTH_CHECK, url: 'http://backend:4000/api/integration/{name}/health-status?id={tenantId}' };
    expect(targetOf({ ...probe, settings })).toEqual({
      url: `http://backend:4000/api/integration/acme/health-status?id=${probe.tenantId}`,
      untrusted: false,
      host: 'backend:4000',
    });
    expect(targetOf({ ...probe, settings, urlOverride: 'https://{name}.example.com/up' })).toEqual({
      url: 'https://acme.example.com/up',
      untrusted: true,
      host: 'acme.example.com',
    });
    expect(targetOf({ ...probe, settings: { ...settings, url: null } })).toBeUndefined();
    expect(targetOf({ ...probe, settings: { ...settings, url: 'http://exa mple/{name}' } })?.host).toBe('invalid');
  });
});

describe('createApiKeyCache', () => {
  it('opens a product key once, and again when it changed', () => {
    const inner = createSecretBox(Buffer.alloc(32, 7));
    let opened = 0;
    const box = {
      seal: inner.seal,
      open: (sealed: Buffer) => {
        opened += 1;
        return inner.open(sealed);
      },
    };
    const keyOf = createApiKeyCache(box);
    const first = inner.seal('key-one-0123456789');
    expect(keyOf({ productId: 'p', apiKeyEncrypted: first })).toBe('key-one-0123456789');
    expect(keyOf({ productId: 'p', apiKeyEncrypted: Buffer.from(first) })).toBe('key-one-0123456789');
    expect(opened).toBe(1);
    expect(keyOf({ productId: 'p', apiKeyEncrypted: inner.seal('key-two-0123456789') })).toBe('key-two-0123456789');
    expect(opened).toBe(2);
    expect(keyOf({ productId: 'p', apiKeyEncrypted: null })).toBeNull();
  });
});
