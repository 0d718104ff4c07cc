import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from './people.test-support.ts';

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

const email = () => `${uniqueName('person')}@Example.com`;
const count = async (table: 'memberships' | 'users' | 'audit_log') =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(landlord.node.services.db)).rows[0]?.n;

/** Invites `address` into `tenant` and accepts; returns the accepted membership. */
async function member(tenant: string, body: Record<string, unknown>) {
  const invited = await product.client.post(`/v1/tenants/${tenant}/users`, body);
  expect(invited.status).toBe(201);
  if (!invited.body.data.invitation) return invited.body.data;
  const accepted = await landlord
    .as(undefined)
    .post('/v1/invitations/accept', { token: invited.body.data.invitation.token, fullName: 'Ada Person' });
  expect(accepted.status).toBe(200);
  return accepted.body.data;
}

describe('adding people to a tenant', () => {
  it('invites an unknown e-mail; accepting creates the person, who then joins other tenants at once', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const address = email();
    const invited = await product.client.post(`/v1/tenants/${tenant.name}/users`, {
      email: address,
      login: 'ada',
      roles: ['member'],
      permissions: ['tenant_statistics'],
    });
    expect(invited.status).toBe(201);
    expect(invited.body.data).toMatchObject({ login: 'ada', status: 'invited', userId: null, email: address });
    expect(invited.body.data.invitation.token).toMatch(/^llin_/);
    const stored = await landlord.node.services.db.selectFrom('memberships').select('invitation_hash').where('login', '=', 'ada').execute();
    expect(stored.every((row) => row.invitation_hash && !row.invitation_hash.toString('utf8').includes('llin_'))).toBe(true);

    const accepted = await landlord
      .as(undefined)
      .post('/v1/invitations/accept', { token: invited.body.data.invitation.token, fullName: 'Ada Lovelace', defaultLanguage: 'en' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data).toMatchObject({ status: 'active', fullName: 'Ada Lovelace', effectivePermissions: ['tenant_statistics'] });
    const again = await landlord.as(undefined).post('/v1/invitations/accept', { token: invited.body.data.invitation.token });
    expect(again.status).toBe(404);
    expect(again.body.metadata.errors[0].code).toBe('invitation.not_found');

    // E-mail is the identity, whatever its case: the same person joins a second tenant directly.
    const second = await liveTenant(landlord, product.name);
    const joined = await product.client.post(`/v1/tenants/${second.name}/users`, { email: address.toUpperCase(), roles: ['admin'] });
    expect(joined.status).toBe(201);
    expect(joined.body.data).toMatchObject({ status: 'active', invitation: null, login: address.toLowerCase(), fullName: 'Ada Lovelace' });

    const user = await product.client.get(`/v1/users/${encodeURIComponent(address.toLowerCase())}`);
    expect(user.status).toBe(200);
    expect(user.body.data.memberships.map((m: { tenant: { name: string } }) => m.tenant.name).sort()).toEqual(
      [tenant.name, second.name].sort(),
    );
    expect((await other.client.get(`/v1/users/${user.body.data.id}`)).status).toBe(404);
  });

  it('refuses a duplicate login, a malformed e-mail, an unknown role or permission — and writes nothing', async () => {
    const tenant = await liveTenant(landlord, product.name);
    await member(tenant.name, { email: email(), login: 'Taken' });
    const before = { memberships: await count('memberships'), users: await count('users'), audit: await count('audit_log') };

    const duplicate = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: email(), login: 'taken' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.metadata.errors[0]).toMatchObject({ code: 'membership.login_taken', parameter: 'login' });
    const malformed = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: 'not-an-email' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.metadata.errors[0].parameter).toBe('email');
    const permission = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: email(), permissions: ['fly'] });
    expect(permission.status).toBe(400);
    expect(permission.body.metadata.errors[0]).toMatchObject({ code: 'permission.unknown', parameter: 'permissions.0' });
    const role = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: email(), roles: ['member', 'wizard'] });
    expect(role.status).toBe(400);
    expect(role.body.metadata.errors[0]).toMatchObject({ code: 'role.unknown', parameter: 'roles.1' });

    expect({ memberships: await count('memberships'), users: await count('users'), audit: await count('audit_log') }).toEqual(before);
  });

  it('refuses an expired invitation with 410 and leaves it pending', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const invited = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: email(), fullName: 'Late Comer' });
    await landlord.node.services.db
      .updateTable('memberships')
      .set({ invitation_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', invited.body.data.id)
      .execute();
    const late = await landlord.as(undefined).post('/v1/invitations/accept', { token: invited.body.data.invitation.token });
    expect(late.status).toBe(410);
    expect(late.body.metadata.errors[0].code).toBe('invitation.expired');
    expect((await product.client.get(`/v1/tenants/${tenant.name}/users/${invited.body.data.login}`)).body.data.status).toBe('invited');
    const garbage = await landlord.as(undefined).post('/v1/invitations/accept', { token: 'llin_forged' });
    expect(garbage.status).toBe(404);
  });
});

describe('changing and removing people', () => {
  it('replaces roles with If-Match, keeps the last owner, and removes a user', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const owner = await member(tenant.name, { email: email(), login: 'boss', roles: ['owner'] });
    expect(owner.effectivePermissions.length).toBeGreaterThanOrEqual(4);
    const read = await product.client.get(`/v1/tenants/${tenant.name}/users/BOSS`);
    expect(read.status).toBe(200);
    const etag = read.headers.etag as string;

    const lastOwner = await product.client.patch(`/v1/tenants/${tenant.name}/users/boss`, { roles: ['member'] }, { 'if-match': etag });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.metadata.errors[0].code).toBe('membership.last_owner');
    expect((await product.client.delete(`/v1/tenants/${tenant.name}/users/boss`)).status).toBe(409);

    await member(tenant.name, { email: email(), login: 'heir', roles: ['owner'] });
    const demoted = await product.client.patch(
      `/v1/tenants/${tenant.name}/users/boss`,
      { roles: ['member'], permissions: ['tenant_payment'] },
      { 'if-match': etag },
    );
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.effectivePermissions).toEqual(['tenant_payment']);
    const stale = await product.client.patch(`/v1/tenants/${tenant.name}/users/boss`, { roles: ['owner'] }, { 'if-match': etag });
    expect(stale.status).toBe(412);

    expect((await product.client.delete(`/v1/tenants/${tenant.name}/users/boss`)).status).toBe(200);
    const gone = await product.client.get(`/v1/tenants/${tenant.name}/users/boss`);
    expect(gone.status).toBe(404);
    expect(gone.body.metadata.errors[0].code).toBe('membership.not_found');
  });

  it('lists a tenant’s users in pages', async () => {
    const tenant = await liveTenant(landlord, product.name);
    for (let index = 0; index < 3; index++) await member(tenant.name, { email: email() });
    const first = await product.client.get(`/v1/tenants/${tenant.name}/users?limit=2`);
    expect(first.body.data).toHaveLength(2);
    const rest = await product.client.get(`/v1/tenants/${tenant.name}/users?limit=2&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.metadata.pagination.nextCursor).toBeNull();
  });

  it("does not let a product's client manage another product's users (404)", async () => {
    const tenant = await liveTenant(landlord, product.name);
    await member(tenant.name, { email: email(), login: 'mine' });
    expect((await other.client.get(`/v1/tenants/${tenant.name}/users`)).status).toBe(404);
    const add = await other.client.post(`/v1/tenants/${tenant.name}/users`, { email: email() });
    expect(add.status).toBe(404);
    expect(add.body.metadata.errors[0].code).toBe('tenant.not_found');
    expect((await other.client.patch(`/v1/tenants/${tenant.name}/users/mine`, { roles: ['admin'] })).status).toBe(404);
    expect((await other.client.delete(`/v1/tenants/${tenant.name}/users/mine`)).status).toBe(404);
    expect((await landlord.as(undefined).get(`/v1/tenants/${tenant.name}/users`)).status).toBe(401);
  });
});
