import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { accessToken, must, type RoomleProduct, roomleClient, roomleProduct, roomleTenant, roomleUser } from './roomle.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: RoomleProduct;
let tenant: { id: number; name: string; apiKey: string };
let record: { id: string; name: string };
let manager: ApiClient;
let managerUser: Awaited<ReturnType<typeof roomleUser>>;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await roomleProduct(landlord, backend.url);
  tenant = await roomleTenant(landlord, product);
  record = (await must(landlord.admin.get(`/v1/tenants/${tenant.name}`), 200)).body.data;
  managerUser = await roomleUser(landlord, tenant.name, ['user_management']);
  manager = apiClient(landlord.url, await accessToken(landlord, product, record, managerUser));
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const users = () =>
  must(landlord.admin.get(`/v1/tenants/${tenant.name}/users?limit=500`), 200).then((answer) => answer.body.data as unknown[]);

describe('GET /v2/tenants/{id}/users/', () => {
  it('lists users with rolesInTenant; one who has not accepted shows only id, email and rolesInTenant', async () => {
    const invitedEmail = `${uniqueName('inv')}@example.com`;
    await must(landlord.admin.post(`/v1/tenants/${tenant.name}/users`, { email: invitedEmail, roles: ['member'] }), 201);
    const answer = await must(manager.get(`/v2/tenants/${tenant.id}/users/`), 200);
    expect(Object.keys(answer.body).sort()).toEqual(['meta', 'users']);
    expect(answer.body.meta.total).toBe(answer.body.users.length);
    const accepted = answer.body.users.find((user: { email: string }) => user.email === managerUser.email);
    expect(accepted).toEqual({
      id: managerUser.id,
      email: managerUser.email,
      rolesInTenant: ['member'],
      login: managerUser.login,
      name: 'Sam User',
      language: null,
      rights: ['user_management'],
    });
    const invited = answer.body.users.find((user: { email: string }) => user.email === invitedEmail);
    expect(Object.keys(invited).sort()).toEqual(['email', 'id', 'rolesInTenant']);
    expect(invited.rolesInTenant).toEqual(['member']);
  });

  it('needs user_management: a user without it, and the tenant’s apiKey connection without it, get 403', async () => {
    const plain = await roomleUser(landlord, tenant.name, ['tenant_management']);
    const denied = await apiClient(landlord.url, await accessToken(landlord, product, record, plain)).get(
      `/v2/tenants/${tenant.id}/users/`,
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('auth.forbidden');
    const byKey = await roomleClient(landlord, { apiKey: tenant.apiKey }).get(`/v2/tenants/${tenant.id}/users/`);
    expect(byKey.status).toBe(403);
    const addByKey = await roomleClient(landlord, { apiKey: tenant.apiKey }).post(`/v2/tenants/${tenant.id}/users/`, {
      user: { email: 'x@example.com', roles: ['member'] },
    });
    expect(addByKey.status).toBe(403);
  });

  it('answers 404 for another tenant, even with user_management there', async () => {
    const other = await roomleTenant(landlord, product);
    expect((await manager.get(`/v2/tenants/${other.id}/users/`)).status).toBe(404);
    expect((await manager.post(`/v2/tenants/${other.id}/users/`, { user: { email: 'y@example.com' } })).status).toBe(404);
    expect((await manager.get(`/v2/tenants/${other.id}/roles/`)).status).toBe(404);
  });
});

describe('POST /v2/tenants/{id}/users/ and PUT /v2/tenants/{id}/users/{userId}/', () => {
  it('connects a known user at once and invites an unknown e-mail; only email and roles are used', async () => {
    const known = await roomleUser(landlord, (await roomleTenant(landlord, product)).name, []);
    const unknownEmail = `${uniqueName('new')}@example.com`;
    const added = await must(
      manager.post(`/v2/tenants/${tenant.id}/users/`, { user: { email: known.email, roles: ['member'], firstName: 'ignored' } }),
      201,
    );
    expect(added.body.users).toHaveLength(1);
    expect(added.body.users[0]).toMatchObject({ id: known.id, email: known.email, rolesInTenant: ['member'] });
    const invited = await must(manager.post(`/v2/tenants/${tenant.id}/users/`, { users: [{ email: unknownEmail }] }), 201);
    expect(Object.keys(invited.body.users[0]).sort()).toEqual(['email', 'id', 'invitation', 'rolesInTenant']);
    expect(invited.body.users[0].invitation.token).toMatch(/^llin_/);
  });

  it('refuses bad input naming the field, and grants beyond the caller’s rights (403), writing nothing', async () => {
    const before = (await users()).length;
    for (const [body, status, field] of [
      [{ user: { email: 'not-an-email' } }, 400, 'user.email'],
      [{ user: { email: 'a@example.com', roles: ['nope'] } }, 400, 'user.roles.0'],
      [{ users: [{ email: 'b@example.com' }, { email: 'c@example.com', roles: ['nope'] }] }, 400, 'users.1.roles.0'],
      [{}, 400, 'user'],
      // `admin` gives every right; this caller holds user_management only.
      [{ user: { email: 'd@example.com', roles: ['admin'] } }, 403, 'user.permissions'],
    ] as const) {
      const refused = await manager.post(`/v2/tenants/${tenant.id}/users/`, body);
      expect(refused.status, `${JSON.stringify(body)} ${refused.text}`).toBe(status);
      expect(refused.body.error.field).toBe(field);
    }
    expect((await users()).length).toBe(before);
  });

  it('changes a user’s roles; an unknown user is 404, a role beyond the caller’s rights 403', async () => {
    const member = await roomleUser(landlord, tenant.name, []);
    const owner = await roomleUser(landlord, tenant.name, [], ['owner']);
    const readers = await must(
      landlord.admin.post(`/v1/products/${product.name}/roles`, {
        name: uniqueName('readers').replaceAll('-', '_').slice(0, 30),
        displayName: 'Readers',
        permissions: ['user_management'],
      }),
      201,
    );
    const role = readers.body.data.name as string;
    const changed = await must(
      manager.put(`/v2/tenants/${tenant.id}/users/${member.id}/`, { user: { email: member.email, roles: [role] } }),
      200,
    );
    expect(changed.body.user).toMatchObject({ id: member.id, rolesInTenant: [role], rights: ['user_management'] });
    expect(
      (await manager.put(`/v2/tenants/${tenant.id}/users/00000000-0000-7000-8000-000000000000/`, { user: { roles: [] } })).status,
    ).toBe(404);
    const tooMuch = await manager.put(`/v2/tenants/${tenant.id}/users/${member.id}/`, { user: { roles: ['owner'] } });
    expect(tooMuch.status).toBe(403);
    const ofOwner = await manager.put(`/v2/tenants/${tenant.id}/users/${owner.id}/`, { user: { roles: ['member'] } });
    expect(ofOwner.status).toBe(403);
    const bad = await manager.put(`/v2/tenants/${tenant.id}/users/${member.id}/`, { user: { roles: 'member' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('user.roles');
    // Nothing of the refused changes was written.
    const read = await must(landlord.admin.get(`/v1/tenants/${tenant.name}/users/${member.login}`), 200);
    expect(read.body.data.roles).toEqual([role]);
  });

  it('GET /roles/ lists the user ↔ tenant connections', async () => {
    const answer = await must(manager.get(`/v2/tenants/${tenant.id}/roles/`), 200);
    const mine = answer.body.roles.find((row: { user: string }) => row.user === managerUser.id);
    expect(mine).toMatchObject({ user: managerUser.id, email: managerUser.email, tenant: tenant.id, roles: ['member'], status: 'active' });
    expect(typeof mine.id).toBe('string');
  });
});
