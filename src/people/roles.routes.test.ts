import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct, ROOMLE_PERMISSIONS } from './people.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

describe('the permission catalogue', () => {
  it('lists what the product defines and refuses a name defined twice', async () => {
    const list = await product.client.get(`/v1/products/${product.name}/permissions`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((permission: { name: string }) => permission.name)).toEqual([...ROOMLE_PERMISSIONS].sort());
    const again = await product.client.post(`/v1/products/${product.name}/permissions`, { name: 'user_management' });
    expect(again.status).toBe(409);
    expect(again.body.metadata.errors[0]).toMatchObject({ code: 'permission.name_taken', parameter: 'name' });
    const bad = await product.client.post(`/v1/products/${product.name}/permissions`, { name: 'Not A Name' });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('name');
  });

  it('removes an unused permission, and refuses (409) one a role still holds', async () => {
    await landlord.admin.post(`/v1/products/${product.name}/permissions`, { name: 'reports' });
    await landlord.admin.post(`/v1/products/${product.name}/permissions`, { name: 'exports' });
    await landlord.admin.post(`/v1/products/${product.name}/roles`, {
      name: 'reporter',
      displayName: 'Reporter',
      permissions: ['reports'],
    });
    const held = await landlord.admin.delete(`/v1/products/${product.name}/permissions/reports`);
    expect(held.status).toBe(409);
    expect(held.body.metadata.errors[0].code).toBe('permission.in_use');
    const unused = await landlord.admin.delete(`/v1/products/${product.name}/permissions/exports`);
    expect(unused.status).toBe(200);
    const names = (await landlord.admin.get(`/v1/products/${product.name}/permissions`)).body.data.map((p: { name: string }) => p.name);
    expect(names).toContain('reports');
    expect(names).not.toContain('exports');
    expect((await landlord.admin.delete(`/v1/products/${product.name}/permissions/exports`)).status).toBe(404);
  });

  it('lets only operators remove permissions (a client gets 403)', async () => {
    const response = await product.client.delete(`/v1/products/${product.name}/permissions/tenant_payment`);
    expect(response.status).toBe(403);
    expect(response.body.metadata.errors[0].code).toBe('auth.forbidden');
  });
});

describe('roles', () => {
  it('has the built-ins, owner and admin following the catalogue, member giving nothing', async () => {
    const roles = (await product.client.get(`/v1/products/${product.name}/roles`)).body.data;
    const byName = Object.fromEntries(roles.map((role: { name: string }) => [role.name, role]));
    expect(byName.owner).toMatchObject({ builtIn: true, allPermissions: true });
    expect(byName.owner.permissions).toEqual(expect.arrayContaining(ROOMLE_PERMISSIONS));
    expect(byName.admin.permissions).toEqual(byName.owner.permissions);
    expect(byName.member).toMatchObject({ builtIn: true, allPermissions: false, permissions: [] });
  });

  it('defines a role every tenant of the product shares', async () => {
    const created = await product.client.post(`/v1/products/${product.name}/roles`, {
      name: 'billing',
      displayName: 'Billing',
      permissions: ['tenant_statistics', 'tenant_payment'],
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'billing', builtIn: false, permissions: ['tenant_payment', 'tenant_statistics'] });
    const listed = (await product.client.get(`/v1/products/${product.name}/roles`)).body.data.map((role: { name: string }) => role.name);
    expect(listed).toEqual(expect.arrayContaining(['owner', 'admin', 'member', 'billing']));
  });

  it('refuses an unknown permission (400 naming it), a taken name and a built-in name (409)', async () => {
    const unknown = await product.client.post(`/v1/products/${product.name}/roles`, {
      name: 'ghost',
      displayName: 'Ghost',
      permissions: ['tenant_statistics', 'fly'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'permission.unknown', parameter: 'permissions.1' });
    expect((await product.client.get(`/v1/products/${product.name}/roles`)).body.data.map((r: { name: string }) => r.name)).not.toContain(
      'ghost',
    );
    await product.client.post(`/v1/products/${product.name}/roles`, { name: 'twice', displayName: 'Twice', permissions: [] });
    const taken = await product.client.post(`/v1/products/${product.name}/roles`, { name: 'twice', displayName: 'Twice', permissions: [] });
    expect(taken.status).toBe(409);
    expect(taken.body.metadata.errors[0].code).toBe('role.name_taken');
    const builtIn = await product.client.post(`/v1/products/${product.name}/roles`, {
      name: 'owner',
      displayName: 'Owner',
      permissions: [],
    });
    expect(builtIn.status).toBe(409);
    expect(builtIn.body.metadata.errors[0]).toMatchObject({ code: 'role.name_taken', parameter: 'name' });
  });

  it("hides another product's roles and permissions (404), also from its product admin", async () => {
    expect((await other.client.get(`/v1/products/${product.name}/roles`)).status).toBe(404);
    const created = await other.client.post(`/v1/products/${product.name}/roles`, { name: 'x', displayName: 'X', permissions: [] });
    expect(created.status).toBe(404);
    expect(created.body.metadata.errors[0].code).toBe('product.not_found');
    const ops = landlord.as(await productAdminKey(landlord, other.name));
    expect((await ops.get(`/v1/products/${product.name}/permissions`)).status).toBe(404);
    expect((await ops.get(`/v1/products/${other.name}/permissions`)).status).toBe(200);
  });

  it('keeps a tenant of the product working with a role defined after it was created', async () => {
    const tenant = await liveTenant(landlord, product.name);
    await product.client.post(`/v1/products/${product.name}/roles`, {
      name: 'stats',
      displayName: 'Stats',
      permissions: ['tenant_statistics'],
    });
    const added = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: 'stats@example.com', roles: ['stats'] });
    expect(added.status).toBe(201);
    expect(added.body.data.effectivePermissions).toEqual(['tenant_statistics']);
  });
});
