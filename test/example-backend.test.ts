import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startExampleBackend } from '../examples/rosaas-backend.ts';
import { eventually } from './helpers/backend-simulator.ts';
import { freePort } from './helpers/free-port.ts';
import { startTestLandlord, type TestLandlord } from './helpers/landlord.ts';

let landlord: TestLandlord;
let backend: Server;

beforeAll(async () => {
  landlord = await startTestLandlord();
});
afterAll(async () => {
  backend?.close();
  await landlord?.close();
});

it('runs the README walk-through: the example backend takes a tenant through its whole life', async () => {
  // 1. The product, with the backend's URLs and the api key Landlord will send.
  const port = await freePort();
  const apiKey = 'example-backend-api-key-0123456789';
  const base = `http://127.0.0.1:${port}/api/integration/{name}`;
  const product = await landlord.admin.post('/v1/products', {
    name: 'notes',
    displayName: 'Notes',
    apiKey,
    webhooks: {
      creation: `${base}/creation`,
      activation: `${base}/activation`,
      deactivation: `${base}/deactivation`,
      deletion: `${base}/deletion`,
    },
    healthCheck: { url: `${base}/health-status` },
  });
  expect(product.status).toBe(201);
  // 2. A client for the backend to call Landlord with.
  const client = await landlord.admin.post('/v1/products/notes/clients', { name: 'notes-backend' });
  backend = await startExampleBackend({
    landlordUrl: landlord.url,
    clientId: client.body.data.clientId,
    clientSecret: client.body.data.clientSecret,
    apiKey,
    port,
  });

  // 3. A tenant: the creation request goes out at once, the backend reports "created".
  const status = async () => (await landlord.admin.get('/v1/tenants/acme')).body.data.status;
  expect((await landlord.admin.post('/v1/tenants', { product: 'notes', name: 'acme', displayName: 'Acme' })).status).toBe(201);
  await eventually(async () => ((await status()) === 'created_as_active' ? true : undefined));
  await landlord.admin.post('/v1/tenants/acme/deactivate');
  await eventually(async () => ((await status()) === 'inactive' ? true : undefined));
  await landlord.admin.post('/v1/tenants/acme/activate');
  await eventually(async () => ((await status()) === 'active' ? true : undefined));
  await landlord.admin.post('/v1/tenants/acme/deactivate');
  await eventually(async () => ((await status()) === 'inactive' ? true : undefined));
  await landlord.admin.delete('/v1/tenants/acme');
  await eventually(async () => ((await status()) === 'deleted' ? true : undefined));
});
