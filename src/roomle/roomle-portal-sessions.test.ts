import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { type ApiClient, apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { verifyPaymentEvent } from '../payments/signature.ts';
import { accessToken, must, type RoomleProduct, roomleProduct, roomleTenant, roomleUser } from './roomle.test-support.ts';

const SECRET = 'whsec_portal_0123456789abcdef';

/** A payment provider's portal-session endpoint on loopback: records what it is asked, answers as `mode` says. */
let provider: Server;
let providerUrl: string;
let mode: 'ok' | 'fail' = 'ok';
const asked: { body: Record<string, unknown>; signed: boolean }[] = [];

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: RoomleProduct;
let tenantId: number;
let manager: ApiClient;

beforeAll(async () => {
  provider = createServer(async (request, response) => {
    const raw = await readBody(request);
    const header = request.headers['landlord-signature'];
    asked.push({ body: JSON.parse(raw), signed: verifyPaymentEvent(SECRET, raw, Array.isArray(header) ? header[0] : header, new Date()) });
    if (mode === 'fail') {
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"down"}');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: `bps_${asked.length}`, created: 1_780_000_000 }));
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/portal-sessions`;
  // The provider's URL is operator input: loopback is reachable only because the operator allows it here.
  landlord = await startTestLandlord({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  backend = await startBackendSimulator();
  product = await roomleProduct(landlord, backend.url);
  const tenant = await roomleTenant(landlord, product);
  tenantId = tenant.id;
  const record = (await must(landlord.admin.get(`/v1/tenants/${tenant.name}`), 200)).body.data;
  manager = apiClient(
    landlord.url,
    await accessToken(landlord, product, record, await roomleUser(landlord, tenant.name, ['tenant_management'])),
  );
  await must(
    manager.post(`/v2/tenants/${tenantId}/paymentConnections/`, {
      paymentConnection: { provider: 'acmepay', store: 'eu', customerReference: 'cus_123' },
    }),
    200,
  );
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
  await new Promise((resolve) => provider?.close(resolve));
});

const setProvider = (portalSessionUrl: string | null | undefined) =>
  landlord.admin.put(`/v1/products/${product.name}/payment-provider`, { provider: 'acmepay', secret: SECRET, portalSessionUrl });

describe('billing-portal sessions through the payment-provider seam', () => {
  it('without a portal-session URL the 501 stays, naming the provider; a bad URL is refused naming the field', async () => {
    await must(setProvider(undefined), 200);
    const answer = await manager.post(`/v2/tenants/${tenantId}/paymentConnectionSessions/`, { store: 'eu' });
    expect(answer.status).toBe(501);
    expect(answer.body.error).toMatchObject({ code: 'roomle.no_billing_portal', status: 501 });
    expect(answer.body.error.message).toMatch(/acmepay/);
    const bad = await setProvider('ftp://example.com/x');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/portalSessionUrl/);
    expect((await must(landlord.admin.get(`/v1/products/${product.name}/payment-provider`), 200)).body.data.portalSessionUrl).toBeNull();
    expect(asked).toHaveLength(0);
  });

  it('with one, asks the provider (signed, for the tenant’s connection) and returns the session id and creation time', async () => {
    const set = await must(setProvider(providerUrl), 200);
    expect(set.body.data.portalSessionUrl).toBe(providerUrl);
    const answer = await must(
      manager.post(`/v2/tenants/${tenantId}/paymentConnectionSessions/`, { store: 'eu', returnUrl: 'https://app.example/back' }),
      200,
    );
    expect(answer.body.paymentConnectionSession).toEqual({ id: 'bps_1', created: new Date(1_780_000_000_000).toISOString() });
    expect(asked).toEqual([{ body: { customerReference: 'cus_123', store: 'eu', returnUrl: 'https://app.example/back' }, signed: true }]);
  });

  it('a failing provider is a 502 in the Roomle error shape naming the provider', async () => {
    mode = 'fail';
    const answer = await manager.post(`/v2/tenants/${tenantId}/paymentConnectionSessions/`, { store: 'eu' });
    expect(answer.status).toBe(502);
    expect(answer.body.error).toMatchObject({ code: 'payment_provider.failed', status: 502 });
    expect(answer.body.error.message).toMatch(/"acmepay".*HTTP 500/);
    expect(asked).toHaveLength(2);
    mode = 'ok';
  });

  it('the egress check applies: a loopback address the operator did not allow is never called (502, saying why)', async () => {
    await must(setProvider(providerUrl.replace('127.0.0.1', '127.0.0.2')), 200);
    const answer = await manager.post(`/v2/tenants/${tenantId}/paymentConnectionSessions/`, { store: 'eu' });
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('payment_provider.failed');
    expect(answer.body.error.message).toMatch(/acmepay.*private or loopback/);
    expect(asked).toHaveLength(2);
  });
});
