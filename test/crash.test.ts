import { expect, it } from 'vitest';
import { eventually } from './helpers/backend-simulator.ts';
import { useCrashHarness } from './helpers/crash-harness.ts';
import { apiClient } from './helpers/http.ts';
import { TEST_ADMIN_KEY } from './helpers/landlord.ts';
import { spawnLandlord } from './helpers/process.ts';
import { eventOf, tenantOf } from './helpers/rosaas.ts';

const crash = useCrashHarness();
const { started, env } = crash;

it('makes every committed call after a SIGKILL in the middle of sending, and every tenant reaches its final state', async () => {
  const first = await spawnLandlord(env());
  started.push(first);
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const product = await admin.post('/v1/products', {
    name: 'crashy',
    displayName: 'Crashy',
    webhooks: { creation: `${crash.backend.url}/api/integration/{name}/creation` },
    provisioning: { mode: 'response', maxAttempts: 50 },
  });
  expect(product.status).toBe(201);

  // The backend is down: every creation call fails and waits for its next attempt.
  await crash.backend.down();
  const names = Array.from({ length: 40 }, (_, index) => `crash-${index}`);
  for (const name of names) {
    const created = await admin.post('/v1/tenants', { product: 'crashy', name, displayName: name });
    expect(created.body.data.status).toBe('sending_creation_request');
  }
  // Some calls are in flight or between attempts when the process dies.
  await new Promise((resolve) => setTimeout(resolve, 300));
  first.child.kill('SIGKILL');
  await first.exited;

  await crash.backend.up();
  const second = await spawnLandlord(env());
  started.push(second);
  const after = apiClient(second.url, TEST_ADMIN_KEY);
  await eventually(
    async () => {
      const page = await after.get('/v1/tenants?product=crashy&status=created_as_active&limit=500');
      return page.body.data.length === names.length ? true : undefined;
    },
    30_000,
    'every tenant created_as_active',
  );
  const called = new Set(
    crash.backend.requests.filter((request) => eventOf(request.path) === 'creation').map((request) => tenantOf(request.path)),
  );
  expect([...called].sort()).toEqual([...names].sort());
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 120_000);

it('delivers every event at least once to every subscribed endpoint after a SIGKILL during a burst', async () => {
  const { startReceiver } = await import('./helpers/receiver.ts');
  const receiver = await startReceiver();
  try {
    const deliveryEnv = { ...env(), LANDLORD_EGRESS_ALLOW: '127.0.0.1' };
    const first = await spawnLandlord(deliveryEnv);
    started.push(first);
    const admin = apiClient(first.url, TEST_ADMIN_KEY);
    expect(
      (await admin.post('/v1/products', { name: 'bursty', displayName: 'Bursty', provisioning: { autoSendCreation: false } })).status,
    ).toBe(201);
    for (const path of ['/a', '/b', '/c']) {
      expect((await admin.post('/v1/webhook-endpoints', { url: `${receiver.url}${path}`, product: 'bursty' })).status).toBe(201);
    }
    // A slow receiver keeps deliveries in flight when the process dies.
    receiver.answer(() => ({ status: 200, delayMs: 20 }));
    const names = Array.from({ length: 60 }, (_, index) => `burst-${index}`);
    await Promise.all(names.map((name) => admin.post('/v1/tenants', { product: 'bursty', name, displayName: name })));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnLandlord(deliveryEnv);
    started.push(second);
    const expected = new Set(names);
    for (const path of ['/a', '/b', '/c']) {
      await eventually(
        async () => {
          const got = new Set(
            receiver
              .at(path)
              .map((entry) => JSON.parse(entry.body).data.tenant?.name)
              .filter(Boolean),
          );
          return [...expected].every((name) => got.has(name)) ? true : undefined;
        },
        30_000,
        `every tenant.created at ${path}`,
      );
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  } finally {
    await receiver.close();
  }
}, 120_000);
