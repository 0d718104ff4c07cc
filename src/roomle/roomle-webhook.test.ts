import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { must, type RoomleProduct, roomleProduct, roomleTenant } from './roomle.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let product: RoomleProduct;

beforeAll(async () => {
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  receiver = await startReceiver();
  product = await roomleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
  await receiver?.close();
});

const tenantIdsAt = (path: string) =>
  receiver
    .at(path)
    .map((delivery) => (JSON.parse(delivery.body) as { tenantId?: string; data?: { tenant?: { id?: string } } }).data?.tenant?.id);

it('a tenant’s webhook receives that tenant’s events only, signed with the secret answered once', async () => {
  const a = await roomleTenant(landlord, product);
  const b = await roomleTenant(landlord, product);
  const ids = {
    a: (await must(landlord.admin.get(`/v1/tenants/${a.name}`), 200)).body.data.id as string,
    b: (await must(landlord.admin.get(`/v1/tenants/${b.name}`), 200)).body.data.id as string,
  };
  // A product-wide endpoint sees both tenants: the yardstick that B's events were dispatched at all.
  await must(
    landlord.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/all`, product: product.name, eventTypes: ['tenant.updated'] }),
    201,
  );
  const set = await must(landlord.admin.put(`/v2/tenants/${a.id}/`, { webhook: `${receiver.url}/a` }), 200);
  expect(set.body.tenant.webhookSecret).toBeTruthy();

  await must(landlord.admin.put(`/v2/tenants/${b.id}/`, { label: 'B renamed' }), 200);
  await must(landlord.admin.put(`/v2/tenants/${a.id}/`, { label: 'A renamed' }), 200);
  await eventually(
    async () =>
      tenantIdsAt('/all').includes(ids.a) && tenantIdsAt('/all').includes(ids.b) && tenantIdsAt('/a').includes(ids.a) ? true : undefined,
    20_000,
    'both tenants’ updates delivered',
  );
  const atA = receiver.at('/a');
  expect(atA.length).toBeGreaterThan(0);
  for (const delivery of atA) expect(JSON.stringify(JSON.parse(delivery.body))).not.toContain(ids.b);
  expect(tenantIdsAt('/a').every((id) => id === ids.a)).toBe(true);
  expect(Object.keys(atA[0]?.headers ?? {}).some((name) => /signature/i.test(name))).toBe(true);
});
