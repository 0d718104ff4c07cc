import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressPolicy } from '../platform/egress.ts';
import { createOutboundHttp } from '../platform/outbound.ts';
import { PROBE_BODY_CAP } from './health.rules.ts';
import { type HealthRig, startHealthRig } from './health.test-support.ts';
import { runProbeRound } from './prober.ts';

let rig: HealthRig;
let hostile: Server;
let hostileUrl: string;
const openSockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  rig = await startHealthRig({ cadence: { failureThreshold: 2 } });
  // Answers 200 with a body that never ends: fast (/endless) or one byte every 100 ms (/drip).
  hostile = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(req.url?.startsWith('/drip') ? 1 : 64 * 1024, 'x');
    const timer = setInterval(() => res.write(chunk), req.url?.startsWith('/drip') ? 100 : 1);
    res.on('close', () => clearInterval(timer));
  });
  hostile.on('connection', (socket) => {
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
  });
  hostile.listen(0, '127.0.0.1');
  await once(hostile, 'listening');
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  hostile?.close();
  await rig?.close();
});

/** Points the tenant at its own URL (the operator's override). */
async function override(name: string, url: string) {
  const response = await rig.landlord.admin.patch(`/v1/tenants/${name}/health`, { url });
  expect(response.status).toBe(200);
}

/** Runs the tenant's next probe and says how long the round took. */
async function timedProbe(name: string): Promise<number> {
  const started = performance.now();
  await rig.probeNext(name);
  return performance.now() - started;
}

describe('backends that misbehave are failed probes with a reason; nothing hangs', () => {
  it('an endless body: cut off at the cap, at once', async () => {
    const tenant = await rig.liveTenant('endless');
    await override(tenant.name, `${hostileUrl}/endless/{name}`);
    expect(await timedProbe(tenant.name)).toBeLessThan(900);
    expect(await rig.watched(tenant.name)).toMatchObject({
      state: 'suspect',
      lastStatus: 200,
      lastError: `answered 200 with a body larger than ${PROBE_BODY_CAP} bytes`,
    });
  });

  it('a body that drips forever: cut off by the timeout', async () => {
    const tenant = await rig.liveTenant('drip');
    await override(tenant.name, `${hostileUrl}/drip/{name}`);
    expect(await timedProbe(tenant.name)).toBeLessThan(2500);
    expect(await rig.watched(tenant.name)).toMatchObject({ state: 'suspect', lastError: 'no answer within 1000 ms' });
    await override(tenant.name, `${rig.backend.url}/api/integration/{name}/health-status`);
  });

  it('a redirect: a failure naming where it pointed, and never followed', async () => {
    const tenant = await rig.liveTenant('moved');
    rig.answers.set(tenant.name, { status: 302, headers: { location: `${rig.backend.url}/elsewhere` } });
    await rig.probeNext(tenant.name);
    expect(await rig.watched(tenant.name)).toMatchObject({
      state: 'suspect',
      lastStatus: 302,
      lastError: `answered 302, a redirect to ${rig.backend.url}/elsewhere (redirects are not followed)`,
    });
    expect(rig.backend.requests.some((request) => request.path === '/elsewhere')).toBe(false);
  });

  it('a malformed URL (stored before it was checked): every tenant of the product fails with the reason', async () => {
    const tenant = await rig.liveTenant('malformed');
    const bad = await rig.landlord.admin.patch(`/v1/products/${rig.product.name}`, { healthCheck: { url: 'http://exa mple/{name}' } });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('healthCheck.url');
    const { db } = rig.landlord.node.services;
    await sql`update products set health_check = jsonb_set(health_check, '{url}', '"http://exa mple/{name}"') where id = ${rig.product.id}`.execute(
      db,
    );
    try {
      await rig.probeNext(tenant.name);
      await rig.probeNext(tenant.name);
      expect(await rig.watched(tenant.name)).toMatchObject({
        state: 'unavailable',
        lastStatus: null,
        lastError: 'the health-check URL is not a valid URL',
      });
    } finally {
      await sql`update products set health_check = jsonb_set(health_check, '{url}', to_jsonb(${`${rig.backend.url}/api/integration/{name}/health-status`}::text)) where id = ${rig.product.id}`.execute(
        db,
      );
    }
  });

  it("a tenant's own URL on a private address is refused unless the operator allows it", async () => {
    const tenant = await rig.liveTenant('private');
    await override(tenant.name, `${rig.backend.url}/api/integration/{name}/health-status`);
    const strict = createOutboundHttp({ egress: createEgressPolicy([]) });
    try {
      rig.clock.set(await rig.nextProbeAt(tenant.name));
      await runProbeRound(rig.deps('strict-node', strict));
      expect((await rig.watched(tenant.name)).lastError).toMatch(/private or loopback address/);
      expect(rig.healthChecks(tenant.name)).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it('a product without a health-check URL leaves its tenants unknown, without calls', async () => {
    const tenant = await rig.liveTenant('nourl');
    const { db } = rig.landlord.node.services;
    await sql`update products set health_check = jsonb_set(health_check, '{url}', 'null') where id = ${rig.product.id}`.execute(db);
    try {
      await rig.probeNext(tenant.name);
      expect(rig.healthChecks(tenant.name)).toHaveLength(0);
      expect(await rig.watched(tenant.name)).toMatchObject({ state: 'unknown', lastError: 'the product has no health-check URL' });
    } finally {
      await sql`update products set health_check = jsonb_set(health_check, '{url}', to_jsonb(${`${rig.backend.url}/api/integration/{name}/health-status`}::text)) where id = ${rig.product.id}`.execute(
        db,
      );
    }
  });
});
