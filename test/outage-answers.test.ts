import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from './helpers/backend-simulator.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { type ApiClient, apiClient } from './helpers/http.ts';
import { startTestLandlord, type TestLandlord } from './helpers/landlord.ts';
import { ROSAAS, type WiredProduct, wireProduct } from './helpers/rosaas.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

// A node whose database connections all drop and whose database then refuses
// connections (a loopback proxy in front of the suite's server, cut by the test): every
// API answers 503 `server.unavailable` with Retry-After, in its own envelope, never 500;
// readiness says so; and everything is back within seconds once the database is.

let database: TestDatabase;
let proxy: TcpProxy;
let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
let reseller: ApiClient;

beforeAll(async () => {
  const real = await createTestDatabase();
  proxy = await startTcpProxy(Number(new URL(real.url).port));
  const url = new URL(real.url);
  url.port = String(proxy.port);
  database = { ...real, url: url.toString() };
  backend = await startBackendSimulator();
  landlord = await startTestLandlord({ database });
  wired = await wireProduct(landlord, backend, { autoSendCreation: false });
  const created = await landlord.admin.post('/v1/resellers', { code: 'outage-resale', name: 'Outage resale', product: wired.product.name });
  expect(created.status, created.text).toBe(201);
  const { username, password, code } = created.body.data;
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const plain = apiClient(landlord.url);
  reseller = {
    ...plain,
    get: (path) => plain.get(path, { authorization: basic, 'x-reseller': code }),
    post: (path, body) => plain.post(path, body, { authorization: basic, 'x-reseller': code }),
  };
});
afterAll(async () => {
  await landlord?.close();
  await proxy?.close();
  await backend?.close();
  await database?.drop();
});

describe('a database that went away', () => {
  it('is answered 503 with Retry-After in each API’s own shape, and readiness says not ready until it is back', async () => {
    expect((await landlord.admin.post('/v1/tenants', { product: wired.product.name, name: 'before', displayName: 'Before' })).status).toBe(
      201,
    );
    await proxy.refuse();

    const native = await landlord.admin.post(
      '/v1/tenants',
      { product: wired.product.name, name: 'during', displayName: 'During' },
      { 'idempotency-key': 'during-1' },
    );
    expect(native.status, native.text).toBe(503);
    expect(native.headers['retry-after']).toBe('1');
    expect(native.body.metadata).toMatchObject({ success: false, errors: [{ code: 'server.unavailable', sysCode: '1503' }] });
    expect((await landlord.admin.get('/v1/products')).status).toBe(503);

    const rosaas = await wired.backend.post(`${ROSAAS}/tenants/before/created`, {});
    expect(rosaas.status, rosaas.text).toBe(503);
    expect(rosaas.headers['retry-after']).toBe('1');
    expect(rosaas.body.metadata.errors[0]).toMatchObject({ code: 'server.unavailable', sysCode: '1503' });

    const sharespine = await reseller.get('/reseller/tenant/nobody');
    expect(sharespine.status, sharespine.text).toBe(503);
    expect(sharespine.headers['retry-after']).toBe('1');
    expect(sharespine.body).toEqual({ message: 'Landlord cannot reach its database right now' });

    const ready = await apiClient(landlord.url).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', database: false });
    await eventually(
      async () => ((await apiClient(landlord.url).get('/readyz')).body.components.listener === 'restarting' ? true : undefined),
      5000,
      'the listener seen as restarting',
    );

    await proxy.accept();
    const back = Date.now();
    await eventually(async () => ((await apiClient(landlord.url).get('/readyz')).status === 200 ? true : undefined), 10_000, 'ready again');
    expect(Date.now() - back).toBeLessThan(10_000);

    // The same request with the same key now goes through, once.
    const retried = await landlord.admin.post(
      '/v1/tenants',
      { product: wired.product.name, name: 'during', displayName: 'During' },
      { 'idempotency-key': 'during-1' },
    );
    expect(retried.status, retried.text).toBe(201);
    const replayed = await landlord.admin.post(
      '/v1/tenants',
      { product: wired.product.name, name: 'during', displayName: 'During' },
      { 'idempotency-key': 'during-1' },
    );
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect((await wired.backend.post(`${ROSAAS}/tenants/before/created`, {})).status).not.toBe(503);
    expect((await reseller.get('/reseller/tenant/nobody')).status).toBe(404);

    const metrics = (await apiClient(landlord.url).get('/metrics')).text;
    expect(metrics).toMatch(/landlord_component_restarts_total\{component="listener"\} [1-9]/);
    expect(metrics).toContain('landlord_component_up{component="job-runner"} 1');
  }, 60_000);
});
