import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import type { ApiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { asConnection, liveTenant, type PeopleProduct, peopleProduct } from './people.test-support.ts';

// A tenant admin acting through its tenant's API connection (HTTP Basic id:secret): confined
// to that tenant, able to grant only what the connection itself holds.

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let tenant: { id: string; name: string };
let admin: ApiClient;
let connection: { id: string; secret: string };

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
  connection = await connect(tenant.name, ['user_management', 'tenant_statistics']);
  admin = asConnection(landlord, connection);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function connect(tenantName: string, permissions: string[]) {
  const created = await product.client.post(`/v1/tenants/${tenantName}/connections`, { name: 'tenant admin', permissions });
  expect(created.status).toBe(201);
  return created.body.data as { id: string; secret: string };
}

const email = () => `${uniqueName('p')}@example.com`;

describe('a tenant admin acting through a connection with user_management', () => {
  it('lists and adds users with permissions it holds', async () => {
    expect((await admin.get(`/v1/tenants/${tenant.name}/users`)).status).toBe(200);
    const added = await admin.post(`/v1/tenants/${tenant.name}/users`, { email: email(), permissions: ['tenant_statistics'] });
    expect(added.status).toBe(201);
    expect(added.body.data.effectivePermissions).toEqual(['tenant_statistics']);
    const audit = await landlord.admin.get(`/v1/audit-log?objectId=${added.body.data.id}`);
    expect(audit.body.data[0]).toMatchObject({ actor: { type: 'connection', id: connection.id } });
  });

  it('cannot grant a permission it lacks, directly or through a role (403), and nothing is written', async () => {
    const direct = await admin.post(`/v1/tenants/${tenant.name}/users`, {
      email: email(),
      login: 'payer',
      permissions: ['tenant_payment'],
    });
    expect(direct.status).toBe(403);
    expect(direct.body.metadata.errors[0]).toMatchObject({ code: 'permission.not_held' });
    expect(direct.body.metadata.errors[0].message).toContain('tenant_payment');
    const role = await admin.post(`/v1/tenants/${tenant.name}/users`, { email: email(), login: 'payer', roles: ['admin'] });
    expect(role.status).toBe(403);
    expect((await product.client.get(`/v1/tenants/${tenant.name}/users/payer`)).status).toBe(404);
  });

  it('cannot raise a user beyond what it holds, nor change or remove someone who holds more', async () => {
    const login = uniqueName('u');
    await admin.post(`/v1/tenants/${tenant.name}/users`, { email: email(), login, permissions: ['tenant_statistics'] });
    const raise = await admin.patch(`/v1/tenants/${tenant.name}/users/${login}`, { permissions: ['tenant_statistics', 'tenant_payment'] });
    expect(raise.status).toBe(403);
    expect(raise.body.metadata.errors[0].code).toBe('permission.not_held');

    const boss = uniqueName('boss');
    await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: email(), login: boss, roles: ['admin'] });
    const demote = await admin.patch(`/v1/tenants/${tenant.name}/users/${boss}`, { roles: ['member'] });
    expect(demote.status).toBe(403);
    expect(demote.body.metadata.errors[0]).toMatchObject({ code: 'permission.not_held', parameter: 'login' });
    expect((await admin.delete(`/v1/tenants/${tenant.name}/users/${boss}`)).status).toBe(403);
    expect((await product.client.get(`/v1/tenants/${tenant.name}/users/${boss}`)).body.data.roles).toEqual(['admin']);
    expect((await admin.delete(`/v1/tenants/${tenant.name}/users/${login}`)).status).toBe(200);
  });

  it("sees no other tenant (404), not even the same product's", async () => {
    const neighbour = await liveTenant(landlord, product.name);
    const list = await admin.get(`/v1/tenants/${neighbour.name}/users`);
    expect(list.status).toBe(404);
    expect(list.body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await admin.post(`/v1/tenants/${neighbour.name}/users`, { email: email() })).status).toBe(404);
  });

  it('is refused everywhere else in the API (it is not a bearer credential)', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`${connection.id}:${connection.secret}`).toString('base64')}` };
    expect((await landlord.as(undefined).get(`/v1/tenants/${tenant.name}`, basic)).status).toBe(401);
    expect((await landlord.as(undefined).get(`/v1/tenants/${tenant.name}/connections`, basic)).status).toBe(401);
  });
});

describe('connections that may not manage users', () => {
  it('refuses a connection without user_management (403), a deactivated one and a wrong secret (401)', async () => {
    const reader = asConnection(landlord, await connect(tenant.name, ['tenant_statistics']));
    const forbidden = await reader.get(`/v1/tenants/${tenant.name}/users`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.metadata.errors[0].code).toBe('auth.forbidden');

    const other = await connect(tenant.name, ['user_management']);
    expect((await asConnection(landlord, other).get(`/v1/tenants/${tenant.name}/users`)).status).toBe(200);
    await product.client.post(`/v1/tenants/${tenant.name}/connections/${other.id}/deactivate`);
    const inactive = await asConnection(landlord, other).get(`/v1/tenants/${tenant.name}/users`);
    expect(inactive.status).toBe(401);
    expect(inactive.body.metadata.errors[0].code).toBe('auth.invalid_credential');
    const wrong = await asConnection(landlord, { id: connection.id, secret: 'llcn_wrong' }).get(`/v1/tenants/${tenant.name}/users`);
    expect(wrong.status).toBe(401);
  });
});
