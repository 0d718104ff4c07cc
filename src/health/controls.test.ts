import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createProduct, productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { type HealthRig, startHealthRig, TEST_CADENCE } from './health.test-support.ts';

let rig: HealthRig;
beforeAll(async () => {
  rig = await startHealthRig({ cadence: { failureThreshold: 2 } });
});
afterAll(async () => {
  await rig?.close();
});

const INTERVAL = TEST_CADENCE.intervalSeconds * 1000;

async function auditActions(objectId: string): Promise<string[]> {
  const page = await rig.landlord.admin.get(`/v1/audit-log?objectId=${objectId}&limit=50`);
  return page.body.data.map((entry: any) => entry.action);
}

describe('pausing and resuming a tenant', () => {
  it('skips a paused tenant (no probe, no outage), and probes it at once when resumed; both audited', async () => {
    const tenant = await rig.liveTenant('pause');
    rig.answers.set(tenant.name, { status: 500 });
    const paused = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/pause`, { reason: 'upgrade window' });
    expect(paused.status).toBe(200);
    expect(paused.body.data.health).toMatchObject({ paused: true, pausedReason: 'upgrade window', nextProbeAt: null });

    rig.clock.advance(5 * INTERVAL);
    await rig.round();
    expect(rig.healthChecks(tenant.name)).toHaveLength(0);
    const conflict = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/probe`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.metadata.errors[0].code).toBe('health.paused');

    const resumed = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data.health).toMatchObject({ paused: false, pausedReason: null, nextProbeAt: rig.clock.now().toISOString() });
    await rig.round();
    expect(rig.healthChecks(tenant.name)).toHaveLength(1);
    expect((await rig.watched(tenant.name)).state).toBe('suspect');
    expect(await auditActions(tenant.id)).toEqual(expect.arrayContaining(['tenant.health_pause', 'tenant.health_resume']));
  });

  it('keeps a pause set before the tenant went live', async () => {
    const name = uniqueName('early');
    const created = await rig.landlord.admin.post('/v1/tenants', { product: rig.product.name, name, displayName: name });
    // Created and sent at once; pausing races the creation, and either order ends paused.
    expect((await rig.landlord.admin.post(`/v1/tenants/${name}/health/pause`)).status).toBe(200);
    await eventually(async () =>
      (await rig.landlord.admin.get(`/v1/tenants/${name}`)).body.data.status === 'created_as_active' ? true : undefined,
    );
    expect(await rig.watched(name)).toMatchObject({ state: 'unknown', paused: true });
    expect(created.status).toBe(201);
  });
});

describe('pausing and resuming a product', () => {
  it('pauses every tenant, including one going live meanwhile, and resumes them at their slots', async () => {
    const product = await rig.landlord.admin.post('/v1/products', {
      name: uniqueName('maint'),
      displayName: 'Maintenance',
      webhooks: { creation: `${rig.backend.url}/api/integration/{name}/creation` },
      healthCheck: { url: `${rig.backend.url}/api/integration/{name}/health-status`, ...TEST_CADENCE },
      provisioning: { mode: 'response' },
    });
    const productName = product.body.data.name;
    const before = await rig.liveTenant('maint', productName);
    const pause = await rig.landlord.admin.post(`/v1/products/${productName}/health/pause`, { reason: 'migration' });
    expect(pause.status).toBe(200);
    expect(pause.body.data).toEqual({ product: { id: product.body.data.id, name: productName }, paused: true, tenants: 1 });
    const during = await rig.liveTenant('maint', productName);
    expect(await rig.watched(during.name)).toMatchObject({ paused: true, pausedReason: 'the product is paused' });

    rig.clock.advance(5 * INTERVAL);
    await rig.round();
    expect(rig.healthChecks(before.name)).toHaveLength(0);
    expect(rig.healthChecks(during.name)).toHaveLength(0);
    const summary = (await rig.landlord.admin.get(`/v1/health/summary?product=${productName}`)).body.data[0];
    expect(summary).toMatchObject({ paused: true, counts: { unknown: 2, paused: 2 } });

    const resume = await rig.landlord.admin.post(`/v1/products/${productName}/health/resume`);
    expect(resume.body.data).toMatchObject({ paused: false, tenants: 2 });
    const now = rig.clock.now().getTime();
    for (const tenant of [before, during]) {
      const due = (await rig.nextProbeAt(tenant.name)).getTime();
      expect(due).toBeGreaterThan(now);
      expect(due).toBeLessThanOrEqual(now + INTERVAL);
    }
    rig.clock.advance(INTERVAL);
    await rig.round();
    expect(rig.healthChecks(before.name)).toHaveLength(1);
    expect(rig.healthChecks(during.name)).toHaveLength(1);
    expect(await auditActions(product.body.data.id)).toEqual(expect.arrayContaining(['product.health_pause', 'product.health_resume']));
  });
});

describe("a tenant's own health-check URL", () => {
  it('is checked, used for the next probe (at once), and removed with null', async () => {
    const tenant = await rig.liveTenant('own');
    const bad = await rig.landlord.admin.patch(`/v1/tenants/${tenant.name}/health`, { url: 'ftp://example.com/{name}' });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'url' });
    const unknownPlaceholder = await rig.landlord.admin.patch(`/v1/tenants/${tenant.name}/health`, { url: 'http://example.com/{who}' });
    expect(unknownPlaceholder.body.metadata.errors[0].parameter).toBe('url');

    const set = await rig.landlord.admin.patch(`/v1/tenants/${tenant.name}/health`, { url: `${rig.backend.url}/own/{name}/{tenantId}` });
    expect(set.status).toBe(200);
    expect(set.body.data.health.url).toBe(`${rig.backend.url}/own/{name}/{tenantId}`);
    await rig.round();
    expect(rig.backend.requests.some((request) => request.path === `/own/${tenant.name}/${tenant.id}`)).toBe(true);

    const cleared = await rig.landlord.admin.patch(`/v1/tenants/${tenant.name}/health`, { url: null });
    expect(cleared.body.data.health.url).toBeNull();
    await rig.round();
    expect(rig.healthChecks(tenant.name)).toHaveLength(1);
    expect(await auditActions(tenant.id)).toContain('tenant.health_url');
  });
});

describe('probing a tenant now', () => {
  it('probes at once, records the result like any probe, and answers what it found', async () => {
    const tenant = await rig.liveTenant('now');
    rig.answers.set(tenant.name, { status: 503 });
    const first = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/probe`);
    expect(first.status).toBe(200);
    expect(first.body.data.probe).toMatchObject({ ok: false, status: 503, error: 'answered 503' });
    expect(first.body.data.health).toMatchObject({ state: 'suspect', consecutiveFailures: 1 });
    const second = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/probe`);
    expect(second.body.data.health).toMatchObject({ state: 'unavailable', consecutiveFailures: 2 });
    await eventually(async () => (rig.unavailableCalls(tenant.name).length === 1 ? true : undefined));

    rig.answers.delete(tenant.name);
    const third = await rig.landlord.admin.post(`/v1/tenants/${tenant.name}/health/probe`);
    expect(third.body.data).toMatchObject({ probe: { ok: true, status: 200, error: null }, health: { state: 'healthy' } });
    expect(await auditActions(tenant.id)).toContain('tenant.health_probe');
  });

  it('is 409 for a tenant that is not live', async () => {
    const idle = await rig.landlord.admin.post('/v1/products', {
      name: uniqueName('idle'),
      displayName: 'Idle',
      provisioning: { autoSendCreation: false },
    });
    const name = uniqueName('idle');
    await rig.landlord.admin.post('/v1/tenants', { product: idle.body.data.name, name, displayName: name });
    const response = await rig.landlord.admin.post(`/v1/tenants/${name}/health/probe`);
    expect(response.status).toBe(409);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'health.not_watched', parameter: 'tenant' });
  });
});

describe('who may use the controls', () => {
  it('operators of the product only: a client is refused (403), another product is 404, no credential is 401', async () => {
    const tenant = await rig.liveTenant('access');
    const client = await rig.landlord.admin.post(`/v1/products/${rig.product.name}/clients`, { name: uniqueName('c') });
    const token = await apiClient(rig.landlord.url).post('/v1/auth/token', {
      grant_type: 'client_credentials',
      client_id: client.body.data.clientId,
      client_secret: client.body.data.clientSecret,
    });
    const backend = rig.landlord.as(token.body.access_token);
    const other = await createProduct(rig.landlord.admin);
    const foreign = rig.landlord.as(await productAdminKey(rig.landlord, other.name));
    const own = rig.landlord.as(await productAdminKey(rig.landlord, rig.product.name));

    for (const path of [`/v1/tenants/${tenant.name}/health/pause`, `/v1/tenants/${tenant.name}/health/probe`]) {
      expect((await backend.post(path)).status).toBe(403);
      expect((await foreign.post(path)).status).toBe(404);
      expect((await rig.landlord.as(undefined).post(path)).status).toBe(401);
    }
    expect((await foreign.post(`/v1/products/${rig.product.name}/health/pause`)).status).toBe(404);
    expect((await backend.post(`/v1/products/${rig.product.name}/health/pause`)).status).toBe(403);
    expect((await own.post(`/v1/tenants/${tenant.name}/health/pause`)).status).toBe(200);
    expect((await own.post(`/v1/tenants/${tenant.name}/health/resume`)).status).toBe(200);
    expect((await backend.get(`/v1/tenants/${tenant.name}/health`)).status).toBe(200);
    const unknownField = await own.post(`/v1/tenants/${tenant.name}/health/pause`, { reason: 'x', until: 'tomorrow' });
    expect(unknownField.status).toBe(400);
  });
});
