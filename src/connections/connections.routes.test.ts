import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { differentFrom } from '../../test/helpers/different.ts';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { isWellFormed, matchesHash } from '../access/credential-format.ts';
import { liveTenant, type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;

// Per credential and minute; far above what the other tests here send with any one credential.
const RATE_LIMIT = 400;

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_RATE_LIMIT: String(RATE_LIMIT) } });
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function connect(tenant: string, body: Record<string, unknown> = {}) {
  const created = await product.client.post(`/v1/tenants/${tenant}/connections`, { name: 'API', ...body });
  expect(created.status).toBe(201);
  return created.body.data as { id: string; secret: string; type: string; active: boolean };
}

const verify = (credential: { id: string; secret: string }, as = product.client) =>
  as.post('/v1/connections/verify', { id: credential.id, secret: credential.secret });

describe('POST /v1/tenants/{tenant}/connections', () => {
  it('creates a connection with a 32-hex id, shows the secret once and keeps only its hash', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name, { configuration: { shop: 'acme' }, permissions: ['tenant_statistics'] });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    expect(created).toMatchObject({ type: 'api', active: true });
    expect(isWellFormed(created.secret, 'llcn')).toBe(true);

    const read = await product.client.get(`/v1/tenants/${tenant.name}/connections/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ id: created.id, configuration: { shop: 'acme' }, permissions: ['tenant_statistics'] });
    expect(read.text).not.toContain(created.secret);
    const list = await product.client.get(`/v1/tenants/${tenant.name}/connections`);
    expect(list.body.data.map((item: { id: string }) => item.id)).toEqual([created.id]);
    expect(list.text).not.toContain('llcn_');
    const stored = await landlord.node.services.db
      .selectFrom('connections')
      .select('secret_hash')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(matchesHash(created.secret, stored.secret_hash)).toBe(true);
  });

  it('names the bad field and writes nothing: unknown permission, bad type, oversized configuration', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const permission = await product.client.post(`/v1/tenants/${tenant.name}/connections`, { name: 'x', permissions: ['fly'] });
    expect(permission.status).toBe(400);
    expect(permission.body.metadata.errors[0]).toMatchObject({ code: 'permission.unknown', parameter: 'permissions.0' });
    const type = await product.client.post(`/v1/tenants/${tenant.name}/connections`, { name: 'x', type: 'Not A Type' });
    expect(type.status).toBe(400);
    expect(type.body.metadata.errors[0].parameter).toBe('type');
    const big = await product.client.post(`/v1/tenants/${tenant.name}/connections`, {
      name: 'x',
      configuration: { blob: 'x'.repeat(70_000) },
    });
    expect(big.status).toBe(400);
    expect(big.body.metadata.errors[0].parameter).toBe('configuration');
    expect((await product.client.get(`/v1/tenants/${tenant.name}/connections`)).body.data).toEqual([]);
  });

  it("hides another product's tenants and connections (404)", async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name);
    expect((await other.client.post(`/v1/tenants/${tenant.name}/connections`, { name: 'x' })).status).toBe(404);
    expect((await other.client.get(`/v1/tenants/${tenant.name}/connections/${created.id}`)).status).toBe(404);
    expect((await other.client.delete(`/v1/tenants/${tenant.name}/connections/${created.id}`)).status).toBe(404);
    const otherTenant = await liveTenant(landlord, product.name);
    const wrongTenant = await product.client.get(`/v1/tenants/${otherTenant.name}/connections/${created.id}`);
    expect(wrongTenant.status).toBe(404);
    expect(wrongTenant.body.metadata.errors[0].code).toBe('connection.not_found');
  });
});

describe('POST /v1/connections/verify', () => {
  it('answers the tenant, the connection and its permissions for a good credential', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name, {
      type: 'api',
      configuration: { region: 'eu' },
      permissions: ['tenant_payment', 'tenant_statistics'],
    });
    const answer = await verify(created);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({
      valid: true,
      reason: null,
      tenant: { id: tenant.id, name: tenant.name, status: 'created_as_active' },
      connection: { id: created.id, name: 'API', type: 'api', configuration: { region: 'eu' } },
      permissions: ['tenant_payment', 'tenant_statistics'],
    });
    expect((await verify({ id: created.id.toUpperCase(), secret: created.secret })).body.data.valid).toBe(true);
  });

  it('refuses a wrong secret and an unknown id alike, and another product’s connection as unknown', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name);
    const wrong = await verify({ id: created.id, secret: differentFrom(created.secret) });
    const unknown = await verify({ id: '0'.repeat(32), secret: created.secret });
    expect(wrong.body.data).toMatchObject({ valid: false, reason: 'unknown', tenant: null, connection: null, permissions: [] });
    expect(unknown.body.data).toEqual(wrong.body.data);
    expect((await verify(created, other.client)).body.data.reason).toBe('unknown');
    expect((await verify({ id: 'nope', secret: 'x' })).body.data.reason).toBe('unknown');
    expect((await verify(created, landlord.as(undefined))).status).toBe(401);
  });

  it('fails a deactivated connection at once (even after a cached success), and a deleted one', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name);
    expect((await verify(created)).body.data.valid).toBe(true);
    const deactivated = await product.client.post(`/v1/tenants/${tenant.name}/connections/${created.id}/deactivate`);
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.data.active).toBe(false);
    expect((await verify(created)).body.data).toMatchObject({ valid: false, reason: 'inactive' });
    await product.client.patch(`/v1/tenants/${tenant.name}/connections/${created.id}`, { active: true });
    expect((await verify(created)).body.data.valid).toBe(true);
    expect((await product.client.delete(`/v1/tenants/${tenant.name}/connections/${created.id}`)).status).toBe(200);
    expect((await verify(created)).body.data.reason).toBe('unknown');
  });

  it('fails once the tenant is no longer live', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name);
    expect((await verify(created)).body.data.valid).toBe(true);
    expect((await landlord.admin.post(`/v1/tenants/${tenant.name}/deactivate`)).status).toBe(200);
    await waitForStatus(landlord, tenant.name, 'inactive');
    expect((await verify(created)).body.data).toMatchObject({ valid: false, reason: 'tenant_not_live' });
  });

  it('drops from its cache only the connections of the tenant an event is about', async () => {
    const [changed, untouched] = [await liveTenant(landlord, product.name), await liveTenant(landlord, product.name)];
    const [ofChanged, ofUntouched] = [await connect(changed.name), await connect(untouched.name)];
    expect((await verify(ofChanged)).body.data.valid).toBe(true);
    expect((await verify(ofUntouched)).body.data.valid).toBe(true);
    // Behind Landlord's back (no event, no NOTIFY), so only a fresh read can see it.
    const { db } = landlord.node.services;
    await db.updateTable('tenants').set({ status: 'inactive' }).where('id', 'in', [changed.id, untouched.id]).execute();
    try {
      // An event about `changed` (its metadata) makes every node read its connections again…
      expect((await landlord.admin.patch(`/v1/tenants/${changed.name}/metadata`, { note: 'x' })).status).toBe(200);
      await expect.poll(async () => (await verify(ofChanged)).body.data.reason).toBe('tenant_not_live');
      // …while the other tenant's stay cached.
      expect((await verify(ofUntouched)).body.data.valid).toBe(true);
    } finally {
      await db.updateTable('tenants').set({ status: 'active' }).where('id', 'in', [changed.id, untouched.id]).execute();
    }
  });
});

describe('PATCH /v1/tenants/{tenant}/connections/{connection}', () => {
  it('changes name, configuration and permissions, and honours If-Match', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await connect(tenant.name);
    const etag = (await product.client.get(`/v1/tenants/${tenant.name}/connections/${created.id}`)).headers.etag as string;
    const changed = await product.client.patch(
      `/v1/tenants/${tenant.name}/connections/${created.id}`,
      { name: 'Renamed', configuration: { a: 1 }, permissions: ['user_management'] },
      { 'if-match': etag },
    );
    expect(changed.status).toBe(200);
    expect(changed.body.data).toMatchObject({ name: 'Renamed', configuration: { a: 1 }, permissions: ['user_management'] });
    expect((await verify(created)).body.data.permissions).toEqual(['user_management']);
    const stale = await product.client.patch(`/v1/tenants/${tenant.name}/connections/${created.id}`, { name: 'x' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
  });
});

describe('rate limits', () => {
  it('does not hold verification to the per-credential rate limit that other routes meet', async () => {
    // A credential of its own, so its budget is this test's alone.
    const operator = landlord.as(await productAdminKey(landlord, product.name));
    // Twenty at a time: the limit is counted per request, and 840 one after another outlast a test's
    // time on a loaded two-core machine.
    const inWaves = async (count: number, send: () => Promise<{ status: number }>) => {
      const statuses: number[] = [];
      for (let sent = 0; sent < count; sent += 20) {
        statuses.push(...(await Promise.all(Array.from({ length: Math.min(20, count - sent) }, send))).map((answer) => answer.status));
      }
      return statuses;
    };
    const verified = await inWaves(RATE_LIMIT + 20, () =>
      operator.post('/v1/connections/verify', { id: '0'.repeat(32), secret: 'llcn_x' }),
    );
    expect(new Set(verified)).toEqual(new Set([200]));
    const read = await inWaves(RATE_LIMIT + 20, () => operator.get(`/v1/products/${product.name}`));
    expect(read).toContain(429);
    expect(read.filter((status) => status === 200).length).toBeLessThanOrEqual(RATE_LIMIT);
    expect((await landlord.as(undefined).post('/v1/connections/verify', { id: '0'.repeat(32), secret: 'x' })).status).toBe(401);
  }, 120_000);
});
