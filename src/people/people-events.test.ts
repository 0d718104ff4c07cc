import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from './people.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

interface FeedEvent {
  type: string;
  tenantId: string | null;
  tenantSequence: number | null;
  productId: string | null;
  data: Record<string, any>;
}

/** The events of `types` once `count` of them are in the feed. */
async function feed(query: string, count: number): Promise<FeedEvent[]> {
  return eventually(async () => {
    const page = await landlord.admin.get(`/v1/events?limit=500&${query}`);
    expect(page.status).toBe(200);
    return page.body.data.length >= count ? (page.body.data as FeedEvent[]) : undefined;
  });
}

describe('people events', () => {
  it("tells a membership's story in the tenant's sequence, without the invitation token", async () => {
    const tenant = await liveTenant(landlord, product.name);
    const invited = await product.client.post(`/v1/tenants/${tenant.name}/users`, { email: 'story@example.com', login: 'story' });
    const token = invited.body.data.invitation.token as string;
    await landlord.as(undefined).post('/v1/invitations/accept', { token, fullName: 'Story Teller' });
    await product.client.patch(`/v1/tenants/${tenant.name}/users/story`, { permissions: ['tenant_statistics'] });
    await product.client.delete(`/v1/tenants/${tenant.name}/users/story`);

    const events = await feed(`tenant=${tenant.name}&type=membership.*`, 4);
    expect(events.map((event) => event.type)).toEqual([
      'membership.invited',
      'membership.accepted',
      'membership.updated',
      'membership.deleted',
    ]);
    for (const event of events) expect(event).toMatchObject({ tenantId: tenant.id, productId: product.id });
    const sequences = events.map((event) => event.tenantSequence ?? 0);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(events[1]?.data.membership).toMatchObject({ login: 'story', status: 'active', fullName: 'Story Teller' });
    expect(events[2]?.data.before.permissions).toEqual([]);
    expect(events[2]?.data.membership.permissions).toEqual(['tenant_statistics']);
    expect(JSON.stringify(events)).not.toContain(token);

    const users = await feed(`product=${product.name}&type=user.created`, 1);
    expect(users.map((event) => event.data.user.email)).toContain('story@example.com');
  });

  it('tells of connections (never their secret) and resellers', async () => {
    const tenant = await liveTenant(landlord, product.name);
    const created = await product.client.post(`/v1/tenants/${tenant.name}/connections`, { name: 'Evented' });
    await product.client.patch(`/v1/tenants/${tenant.name}/connections/${created.body.data.id}`, { active: false });
    await product.client.delete(`/v1/tenants/${tenant.name}/connections/${created.body.data.id}`);
    const events = await feed(`tenant=${tenant.name}&type=connection.*`, 3);
    expect(events.map((event) => event.type)).toEqual(['connection.created', 'connection.updated', 'connection.deleted']);
    expect(events[1]?.data.connection.active).toBe(false);
    expect(JSON.stringify(events)).not.toContain(created.body.data.secret);

    const reseller = await landlord.admin.post('/v1/resellers', { code: 'evented', name: 'Evented', product: product.name });
    await landlord.admin.delete('/v1/resellers/evented');
    const resellers = await feed(`product=${product.name}&type=reseller.*`, 2);
    expect(resellers.map((event) => event.type)).toEqual(['reseller.created', 'reseller.revoked']);
    expect(JSON.stringify(resellers)).not.toContain(reseller.body.data.password);
  });
});
