import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createProduct, createTenant, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { manualClock } from '../platform/clock.ts';

let landlord: TestLandlord;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const clock = manualClock(new Date());
let product: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord({ clock, env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  receiver = await startReceiver();
  product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
});
afterAll(async () => {
  await landlord?.close();
  await receiver?.close();
});

let paths = 0;
async function subscribe(body: Record<string, unknown> = {}) {
  const path = `/hook-${++paths}`;
  const created = await landlord.admin.post('/v1/webhook-endpoints', {
    url: `${receiver.url}${path}`,
    product: product.name,
    eventTypes: ['tenant.*'],
    ...body,
  });
  expect(created.status).toBe(201);
  return { path, id: created.body.data.id as string, secret: created.body.data.secret as string };
}

const arrivals = (path: string, count: number, timeoutMs = 10_000) =>
  eventually(async () => (receiver.at(path).length >= count ? receiver.at(path) : undefined), timeoutMs, `${count} deliveries at ${path}`);

/** Waits until an endpoint's deliveries have `count` attempts recorded in all (before the clock may move). */
const recorded = (endpointId: string, count: number) =>
  eventually(async () => {
    const page = await landlord.admin.get(`/v1/webhook-endpoints/${endpointId}/deliveries?limit=500`);
    const total = page.body.data.reduce((sum: number, delivery: any) => sum + delivery.attempts, 0);
    return total >= count ? true : undefined;
  });

const verify = (secret: string, entry: { body: string; headers: Record<string, unknown> }) =>
  new Webhook(secret).verify(entry.body, entry.headers as Record<string, string>) as { id: string; type: string; data: any };

describe('signed deliveries', () => {
  it('delivers events signed per Standard Webhooks, verifiable with the standardwebhooks package', async () => {
    const endpoint = await subscribe();
    expect(endpoint.secret).toMatch(/^whsec_/);
    const tenant = await createTenant(landlord.admin, product.name);
    const [delivery] = await arrivals(endpoint.path, 1);
    const payload = verify(endpoint.secret, delivery!);
    expect(payload).toMatchObject({ type: 'tenant.created', tenantSequence: 1, data: { tenant: { name: tenant.name } } });
    expect(delivery!.headers['webhook-id']).toBe(payload.id);
    expect(() => verify(`whsec_${Buffer.alloc(32).toString('base64')}`, delivery!)).toThrow();
  });

  it('retries a receiver answering 500 twice with the same webhook-id, on the schedule', async () => {
    const endpoint = await subscribe();
    let calls = 0;
    receiver.answer((entry) => (entry.path === endpoint.path && ++calls <= 2 ? { status: 500 } : { status: 200 }));
    await createTenant(landlord.admin, product.name);
    await arrivals(endpoint.path, 1);
    await recorded(endpoint.id, 1);
    clock.advance(6_000);
    await arrivals(endpoint.path, 2);
    await recorded(endpoint.id, 2);
    clock.advance(6 * 60_000);
    const all = await arrivals(endpoint.path, 3);
    expect(new Set(all.map((entry) => entry.headers['webhook-id'])).size).toBe(1);
    receiver.answer(() => ({ status: 200 }));
    const list = await eventually(async () => {
      const page = await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
      return page.body.data[0]?.status === 'delivered' ? page.body.data : undefined;
    });
    expect(list[0]).toMatchObject({ attempts: 3, lastStatus: 200 });
    const detail = await landlord.admin.get(`/v1/deliveries/${list[0].id}`);
    expect(detail.body.data.attemptLog.map((attempt: any) => attempt.responseStatus)).toEqual([500, 500, 200]);
    expect(detail.body.data.attemptLog[0]).toMatchObject({ responseBody: 'answer 500' });
    expect(detail.body.data.attemptLog[0].requestHeaders['webhook-id']).toBe(all[0]!.headers['webhook-id']);
  });

  it('disables an endpoint that answers 410 at once, and tells about it in the feed', async () => {
    const endpoint = await subscribe();
    receiver.answer((entry) => (entry.path === endpoint.path ? { status: 410 } : { status: 200 }));
    await createTenant(landlord.admin, product.name);
    await arrivals(endpoint.path, 1);
    const disabled = await eventually(async () => {
      const read = await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}`);
      return read.body.data.enabled === false ? read.body.data : undefined;
    });
    expect(disabled.disabledReason).toContain('410');
    // The event is in the feed once the sequencer has given it a position.
    await eventually(async () => {
      const feed = await landlord.admin.get('/v1/events?type=webhook_endpoint.disabled&limit=500');
      return feed.body.data.some((event: any) => event.data.endpoint.id === endpoint.id) ? true : undefined;
    });
    receiver.answer(() => ({ status: 200 }));
    await createTenant(landlord.admin, product.name);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.at(endpoint.path)).toHaveLength(1);
  });

  it('disables an endpoint that has failed without a success for 5 days', async () => {
    const endpoint = await subscribe();
    receiver.answer((entry) => (entry.path === endpoint.path ? { status: 500 } : { status: 200 }));
    await createTenant(landlord.admin, product.name);
    await arrivals(endpoint.path, 1);
    await recorded(endpoint.id, 1);
    clock.advance(4 * 24 * 3600_000);
    await arrivals(endpoint.path, 2);
    await recorded(endpoint.id, 2);
    expect((await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}`)).body.data.enabled).toBe(true);
    clock.advance(24 * 3600_000 + 60_000);
    await arrivals(endpoint.path, 3);
    const disabled = await eventually(async () => {
      const read = await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}`);
      return read.body.data.enabled === false ? read.body.data : undefined;
    });
    expect(disabled.disabledReason).toContain('5 days');
    receiver.answer(() => ({ status: 200 }));
    const reenabled = await landlord.admin.patch(`/v1/webhook-endpoints/${endpoint.id}`, { enabled: true });
    expect(reenabled.body.data).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });

  it('signs with both secrets during a rotation, and only the new one afterwards', async () => {
    const endpoint = await subscribe();
    const rotated = await landlord.admin.post(`/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 3600 });
    expect(rotated.body.data.secret).not.toBe(endpoint.secret);
    expect(rotated.body.data.secretRotation).not.toBeNull();
    await createTenant(landlord.admin, product.name);
    const [during] = await arrivals(endpoint.path, 1);
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(endpoint.secret, during!).type).toBe('tenant.created');
    expect(verify(rotated.body.data.secret, during!).type).toBe('tenant.created');
    clock.advance(3601_000);
    await createTenant(landlord.admin, product.name);
    const after = (await arrivals(endpoint.path, 2))[1]!;
    expect(verify(rotated.body.data.secret, after).type).toBe('tenant.created');
    expect(() => verify(endpoint.secret, after)).toThrow();
  });

  it('sends nothing to a disabled endpoint', async () => {
    const endpoint = await subscribe({ enabled: false });
    await createTenant(landlord.admin, product.name);
    const other = await subscribe();
    await createTenant(landlord.admin, product.name);
    await arrivals(other.path, 1);
    expect(receiver.at(endpoint.path)).toHaveLength(0);
  });
});

describe('resend and replay', () => {
  it('replays exactly the deliveries that gave up, and resends one on demand', async () => {
    const endpoint = await subscribe();
    receiver.answer((entry) => (entry.path === endpoint.path ? { status: 503 } : { status: 200 }));
    const since = new Date(Date.now() - 1000).toISOString();
    await createTenant(landlord.admin, product.name);
    await createTenant(landlord.admin, product.name);
    await arrivals(endpoint.path, 2);
    // Walk the clock through the whole schedule: 8 attempts each, then they give up.
    for (let attempt = 1; attempt < 8; attempt++) {
      await recorded(endpoint.id, 2 * attempt);
      clock.advance(12 * 3600_000);
      await arrivals(endpoint.path, 2 * (attempt + 1));
    }
    const failed = await eventually(async () => {
      const page = await landlord.admin.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`);
      return page.body.data.length === 2 ? page.body.data : undefined;
    });
    expect(failed.every((delivery: any) => delivery.attempts === 8)).toBe(true);
    receiver.answer(() => ({ status: 200 }));
    const before = receiver.at(endpoint.path).length;
    const replay = await landlord.admin.post(`/v1/webhook-endpoints/${endpoint.id}/replay`, { since });
    expect(replay.body.data.replayed).toBe(2);
    await arrivals(endpoint.path, before + 2);
    const resent = await landlord.admin.post(`/v1/deliveries/${failed[0].id}/resend`);
    expect(resent.status).toBe(200);
    await arrivals(endpoint.path, before + 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at(endpoint.path)).toHaveLength(before + 3);
  }, 60_000);
});

describe('ordering, concurrency and access', () => {
  it("delivers one tenant's events one at a time and in order to an ordered endpoint", async () => {
    const endpoint = await subscribe({ ordered: true });
    receiver.answer((entry) => (entry.path === endpoint.path ? { status: 200, delayMs: 30 } : { status: 200 }));
    const tenant = await createTenant(landlord.admin, product.name);
    for (let index = 0; index < 8; index++) await landlord.admin.patch(`/v1/tenants/${tenant.name}/metadata`, { index });
    const all = await arrivals(endpoint.path, 9);
    const sequence = all.map((entry) => JSON.parse(entry.body).tenantSequence);
    expect(sequence).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let index = 1; index < all.length; index++) expect(all[index]!.at).toBeGreaterThanOrEqual(all[index - 1]!.at + 25);
    receiver.answer(() => ({ status: 200 }));
  });

  it('keeps an endpoint within its concurrency cap', async () => {
    const endpoint = await subscribe({ maxConcurrency: 2 });
    const path = endpoint.path;
    let inFlight = 0;
    let most = 0;
    receiver.answer((entry) => {
      if (entry.path !== path) return { status: 200 };
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight -= 1;
      }, 40);
      return { status: 200, delayMs: 40 };
    });
    for (let index = 0; index < 10; index++) await createTenant(landlord.admin, product.name);
    await arrivals(path, 10);
    expect(most).toBeLessThanOrEqual(2);
    receiver.answer(() => ({ status: 200 }));
  });

  it("hides another product's endpoints and refuses unknown event types", async () => {
    const endpoint = await subscribe();
    const other = await createProduct(landlord.admin);
    const scoped = landlord.as(await productAdminKey(landlord, other.name));
    expect((await scoped.get(`/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await scoped.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).status).toBe(404);
    const mine = await scoped.post('/v1/webhook-endpoints', { url: `${receiver.url}/mine` });
    expect(mine.body.data.productId).toBe(other.id);
    const bad = await landlord.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/x`, eventTypes: ['tenant.nope'] });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('eventTypes');
    const badUrl = await landlord.admin.post('/v1/webhook-endpoints', { url: 'ftp://example.com/x' });
    expect(badUrl.body.metadata.errors[0].parameter).toBe('url');
  });
});

describe('egress', () => {
  it('refuses to deliver to a loopback address that is not allowed', async () => {
    const strict = await startTestLandlord();
    try {
      const owner = await createProduct(strict.admin, { provisioning: { autoSendCreation: false } });
      const created = await strict.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/strict`, product: owner.name });
      await createTenant(strict.admin, owner.name);
      const delivery = await eventually(async () => {
        const page = await strict.admin.get(`/v1/webhook-endpoints/${created.body.data.id}/deliveries`);
        return page.body.data[0]?.attempts >= 1 ? page.body.data[0] : undefined;
      });
      expect(delivery.lastError).toContain('private or loopback');
      expect(receiver.at('/strict')).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});
