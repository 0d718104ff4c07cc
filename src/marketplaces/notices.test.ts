import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { createPlanPrice, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';
import { addUser, type CreatedMarketplace, createGroup, createMarketplace, documentMarketplace } from './marketplaces.test-support.ts';

// The DELETE notices to the app: one per group deletion and per user removal, with the path and
// Basic credential the SDKs check, made by the durable call machinery (retried through an outage).

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let marketplace: CreatedMarketplace;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const basic = () => `Basic ${Buffer.from(`${marketplace.apiId}:${marketplace.apiKey}`).toString('base64')}`;
const deletesTo = (path: string) => backend.requests.filter((request) => request.method === 'DELETE' && request.path === path);

describe('DELETE notices to the app', () => {
  it('removing a user sends exactly one DELETE to group_user_path with api.id:api.key', async () => {
    const group = await createGroup(landlord, marketplace.id);
    await waitForStatus(landlord, group.tenant.name, 'created_as_active');
    await addUser(landlord, marketplace.id, group.uid, { email: `${uniqueName('owner')}@example.com`, role: 'Super Admin' });
    const user = await addUser(landlord, marketplace.id, group.uid, { email: `${uniqueName('user')}@example.com`, role: 'Member' });
    const removed = await landlord.admin.delete(`/v1/marketplaces/${marketplace.id}/groups/${group.uid}/users/${user.uid}`);
    expect(removed.status).toBe(200);
    const path = `/maestrano/account/groups/${group.uid}/users/${user.uid}/maestrano-dev`;
    const request = await backend.waitFor((one) => one.method === 'DELETE' && one.path === path);
    expect(request.headers.authorization).toBe(basic());
    // The notice is recorded in the tenant's history like every backend call.
    await eventually(async () => {
      const timeline = await landlord.admin.get(`/v1/tenants/${group.tenant.name}/history?kind=call`);
      return timeline.body.data?.some((entry: { action: string }) => entry.action === 'marketplace.user_removed') ? true : undefined;
    });
    expect(deletesTo(path)).toHaveLength(1);
  });

  it('deleting a group deletes its tenant, cancels its subscription (reason marketplace) and sends exactly one DELETE to group_path, even when asked twice', async () => {
    const price = await createPlanPrice(landlord.admin, product.name);
    const group = await createGroup(landlord, marketplace.id, { price: price.price });
    await waitForStatus(landlord, group.tenant.name, 'created_as_active');
    expect((await landlord.admin.delete(`/v1/marketplaces/${marketplace.id}/groups/${group.uid}`)).status).toBe(200);
    expect((await landlord.admin.delete(`/v1/marketplaces/${marketplace.id}/groups/${group.uid}`)).status).toBe(200);
    const path = `/maestrano/account/groups/${group.uid}/maestrano-dev`;
    const request = await backend.waitFor((one) => one.method === 'DELETE' && one.path === path);
    expect(request.headers.authorization).toBe(basic());
    await waitForStatus(landlord, group.tenant.name, 'deleted');
    expect(deletesTo(path)).toHaveLength(1);
    const cancelled = await landlord.node.services.db
      .selectFrom('events')
      .select('data')
      .where('tenant_id', '=', group.tenant.id)
      .where('type', '=', 'subscription.canceled')
      .execute();
    expect(cancelled.map((event) => event.data.reason)).toEqual(['marketplace']);
  });

  it('a notice is retried through an app outage and arrives once the app is back', async () => {
    const group = await createGroup(landlord, marketplace.id);
    await waitForStatus(landlord, group.tenant.name, 'created_as_active');
    await addUser(landlord, marketplace.id, group.uid, { email: `${uniqueName('owner')}@example.com`, role: 'Super Admin' });
    const user = await addUser(landlord, marketplace.id, group.uid, { email: `${uniqueName('user')}@example.com`, role: 'Power User' });
    const path = `/maestrano/account/groups/${group.uid}/users/${user.uid}/maestrano-dev`;
    let failures = 0;
    backend.behave((request) => {
      if (request.method === 'DELETE' && request.path === path && failures < 2) {
        failures += 1;
        return { status: 503 };
      }
      return { status: 200, body: { success: true } };
    });
    try {
      expect((await landlord.admin.delete(`/v1/marketplaces/${marketplace.id}/groups/${group.uid}/users/${user.uid}`)).status).toBe(200);
      const verdicts = await eventually(
        async () => {
          const history = await landlord.admin.get(`/v1/tenants/${group.tenant.name}/history?kind=call`);
          const found: string[] = history.body.data
            .filter((entry: { action: string }) => entry.action === 'marketplace.user_removed')
            .map((entry: { detail: { verdict: string } }) => entry.detail.verdict);
          return found.includes('success') ? found : undefined;
        },
        20_000,
        'the notice delivered',
      );
      expect(verdicts.sort()).toEqual(['retry', 'retry', 'success']);
      expect(deletesTo(path)).toHaveLength(3);
    } finally {
      backend.behave(() => ({ status: 200, body: {} }));
    }
  });
});
