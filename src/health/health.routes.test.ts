import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey } from '../../test/helpers/fixtures.ts';
import { type HealthRig, startHealthRig } from './health.test-support.ts';

let rig: HealthRig;
beforeAll(async () => {
  rig = await startHealthRig({ cadence: { failureThreshold: 2 } });
});
afterAll(async () => {
  await rig?.close();
});

const HOUR = 3_600_000;

/** Probes the tenant at exactly `at` (its schedule moved there), answering `status`. */
async function probeAt(name: string, at: number, status: number) {
  rig.answers.set(name, { status });
  await sql`update tenant_health set next_probe_at = ${new Date(at)} where tenant_id = (select id from tenants where name = ${name})`.execute(
    rig.landlord.node.services.db,
  );
  rig.clock.set(new Date(at));
  await rig.round();
}

describe('GET /v1/tenants/{tenant}/health', () => {
  it('reports uptime over observed time and latency from hourly totals plus the current hour, and the changes', async () => {
    const tenant = await rig.liveTenant('report');
    const hour = Math.ceil(rig.clock.now().getTime() / HOUR) * HOUR;
    // Each probe covers the time since the one before (the first: one interval, 10 s).
    await probeAt(tenant.name, hour - 15_000, 200); // observed 10 s
    await probeAt(tenant.name, hour - 5_000, 200); // 10 s
    await probeAt(tenant.name, hour + 5_000, 500); // 10 s down, and a new hour: the last one is moved to the hourly table
    await probeAt(tenant.name, hour + 7_000, 500); // 2 s down: unavailable
    await probeAt(tenant.name, hour + 9_000, 200); // 2 s: recovered

    const { db } = rig.landlord.node.services;
    const hourly = await db.selectFrom('tenant_probe_hourly').selectAll().where('tenant_id', '=', tenant.id).execute();
    expect(hourly).toEqual([
      expect.objectContaining({ hour: new Date(hour - HOUR), probes: 2, failures: 0, observed_ms: 20_000, down_ms: 0 }),
    ]);

    const response = await rig.landlord.admin.get(`/v1/tenants/${tenant.name}/health`);
    expect(response.status).toBe(200);
    const report = response.body.data;
    expect(report.tenant).toEqual({ id: tenant.id, name: tenant.name });
    expect(report.current).toMatchObject({ state: 'healthy', consecutiveFailures: 0 });
    for (const window of ['24h', '7d', '30d']) {
      expect(report.uptime[window]).toMatchObject({ probes: 5, failures: 2, uptime: Math.round((1 - 12 / 34) * 1e6) / 1e6 });
      expect(report.uptime[window].latencyMs.p99).toBeGreaterThanOrEqual(report.uptime[window].latencyMs.p50);
    }
    expect(report.changes.map((change: any) => `${change.change}:${change.from}→${change.to}`)).toEqual([
      'recovered:unavailable→healthy',
      'unavailable:suspect→unavailable',
      'suspect:healthy→suspect',
    ]);
    expect(report.changes[1].detail).toMatchObject({ reason: 'answered 500', consecutiveFailures: 2 });
    // Kept probes: the first (it changed unknown to healthy), both failures, and the recovery.
    expect(report.recentProbes.map((probe: any) => `${probe.ok}:${probe.state}`)).toEqual([
      'true:healthy',
      'false:unavailable',
      'false:suspect',
      'true:healthy',
    ]);

    // A day later the 24 h window is empty; 7 d and 30 d still count everything.
    rig.clock.set(new Date(hour + 25 * HOUR));
    const later = (await rig.landlord.admin.get(`/v1/tenants/${tenant.name}/health`)).body.data;
    expect(later.uptime['24h']).toEqual({ uptime: null, probes: 0, failures: 0, latencyMs: null });
    expect(later.uptime['7d'].probes).toBe(5);
  });

  it('answers for a tenant that is not live: no current health, its history', async () => {
    const created = await rig.landlord.admin.post('/v1/products', {
      name: `idle-${Date.now()}`,
      displayName: 'Idle',
      provisioning: { autoSendCreation: false },
    });
    const record = await rig.landlord.admin.post('/v1/tenants', {
      product: created.body.data.name,
      name: `idle-t-${Date.now()}`,
      displayName: 'Idle',
    });
    const response = await rig.landlord.admin.get(`/v1/tenants/${record.body.data.name}/health`);
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({ current: null, changes: [], recentProbes: [] });
    expect(response.body.data.uptime['30d'].uptime).toBeNull();
    expect((await rig.landlord.admin.get(`/v1/tenants/${record.body.data.name}`)).body.data.health).toBeNull();
  });

  it('is 404 for an unknown tenant or one of another product, 401 without a credential', async () => {
    const tenant = await rig.liveTenant('scoped');
    const other = await createProduct(rig.landlord.admin);
    const foreign = rig.landlord.as(await productAdminKey(rig.landlord, other.name));
    expect((await foreign.get(`/v1/tenants/${tenant.name}/health`)).status).toBe(404);
    expect((await rig.landlord.admin.get('/v1/tenants/no-such-tenant/health')).body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await rig.landlord.as(undefined).get(`/v1/tenants/${tenant.name}/health`)).status).toBe(401);
    const own = rig.landlord.as(await productAdminKey(rig.landlord, rig.product.name));
    expect((await own.get(`/v1/tenants/${tenant.name}/health`)).status).toBe(200);
  });
});

describe('GET /v1/health/summary', () => {
  it('counts tenants per state and lists the worst first; a product admin sees only its product', async () => {
    const down = await rig.liveTenant('sum-down');
    const shaky = await rig.liveTenant('sum-shaky');
    const fine = await rig.liveTenant('sum-fine');
    rig.answers.set(down.name, { status: 500 });
    await rig.probeNext(down.name);
    await rig.probeNext(down.name);
    rig.answers.set(shaky.name, { status: 500 });
    await rig.probeNext(shaky.name);
    rig.answers.set(shaky.name, { status: 200 });
    await rig.probeNext(fine.name);
    rig.answers.set(shaky.name, { status: 500 });
    await rig.probeNext(shaky.name);

    const response = await rig.landlord.admin.get(`/v1/health/summary?product=${rig.product.name}&worst=5`);
    expect(response.status).toBe(200);
    const [line] = response.body.data;
    expect(line.product).toEqual({ id: rig.product.id, name: rig.product.name });
    const { rows } = await sql<{ state: string; count: number }>`
      select state, count(*)::int as count from tenant_health where product_id = ${rig.product.id} and watched group by state`.execute(
      rig.landlord.node.services.db,
    );
    const expected = Object.fromEntries(rows.map((row) => [row.state, row.count]));
    expect(line.counts).toMatchObject({
      healthy: expected.healthy ?? 0,
      suspect: expected.suspect ?? 0,
      unavailable: expected.unavailable ?? 0,
      unknown: expected.unknown ?? 0,
    });
    const worstNames = line.worst.map((tenant: any) => tenant.name);
    expect(worstNames.indexOf(down.name)).toBeLessThan(worstNames.indexOf(shaky.name));
    expect(line.worst.find((tenant: any) => tenant.name === down.name)).toMatchObject({ state: 'unavailable', lastError: 'answered 500' });
    expect(worstNames).not.toContain(fine.name);

    const other = await createProduct(rig.landlord.admin);
    const scoped = rig.landlord.as(await productAdminKey(rig.landlord, other.name));
    const theirs = await scoped.get('/v1/health/summary');
    expect(theirs.body.data.map((entry: any) => entry.product.name)).toEqual([other.name]);
    expect((await scoped.get(`/v1/health/summary?product=${rig.product.name}`)).status).toBe(404);
    expect((await rig.landlord.admin.get('/v1/health/summary?worst=1000')).body.metadata.errors[0].parameter).toBe('querystring.worst');
  });
});
