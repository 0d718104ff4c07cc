import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import {
  must,
  BILLING_PROFILE as PROFILE,
  type RoomleProduct,
  type RoomleSetup,
  roomleTenant,
  roomleUserClient,
  startRoomle,
} from './roomle.test-support.ts';

let roomle: RoomleSetup;
let landlord: TestLandlord;
let product: RoomleProduct;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  // Webhooks may be delivered to the receiver on loopback.
  roomle = await startRoomle({ env: { LANDLORD_EGRESS_ALLOW: '127.0.0.1' } });
  ({ landlord, product } = roomle);
  receiver = await startReceiver();
});
afterAll(async () => {
  await roomle?.close();
  await receiver?.close();
});

/** Subscribes the tenant to the basic price and answers its one invoice as `GET /v1/invoices/{id}` shows it. */
async function subscribeAndReadInvoice(tenantName: string) {
  await must(landlord.admin.post(`/v1/tenants/${tenantName}/subscription`, { price: product.prices.tenant_basic }), 201);
  const listed = await must(landlord.admin.get(`/v1/tenants/${tenantName}/invoices`), 200);
  expect(listed.body.data).toHaveLength(1);
  return (await must(landlord.admin.get(`/v1/invoices/${listed.body.data[0].id}`), 200)).body.data;
}

describe('invoices bill the billing profile', () => {
  it('an issued invoice keeps the profile as it was when finalized; a later edit changes only the profile', async () => {
    const tenant = await roomleTenant(landlord, product);
    const manager = await roomleUserClient(landlord, product, tenant.name, ['tenant_management']);
    const path = `/v2/tenants/${tenant.id}/billingInformation/`;
    await must(manager.post(path, { billingInformation: { ...PROFILE, currency: 'EUR' } }), 201);

    const invoice = await subscribeAndReadInvoice(tenant.name);
    expect(invoice.number).toEqual(expect.any(Number));
    expect(invoice.billedTo).toEqual(PROFILE);

    const edited = { ...PROFILE, name: 'Someone Else', company: null, vatId: null, email: 'new@shop.example', address: { city: 'Graz' } };
    await must(manager.put(path, { billingInformation: edited }), 200);
    expect((await must(manager.get(path), 200)).body.billingInformation).toMatchObject(edited);
    const again = (await must(landlord.admin.get(`/v1/invoices/${invoice.id}`), 200)).body.data;
    expect(again.billedTo).toEqual(PROFILE);
    expect(again.version).toBe(invoice.version);
  });

  it('a draft finalized through POST /v1/invoices/{id}/finalize takes the profile when finalized, not when drafted', async () => {
    const tenant = await roomleTenant(landlord, product);
    const record = (await must(landlord.admin.get(`/v1/tenants/${tenant.name}`), 200)).body.data;
    const manager = await roomleUserClient(landlord, product, tenant.name, ['tenant_management']);
    const path = `/v2/tenants/${tenant.id}/billingInformation/`;
    await must(manager.post(path, { billingInformation: PROFILE }), 201);
    // Landlord's API makes no bare drafts (other features do, inside their transactions): one is written here.
    const id = randomUUID();
    const client = new pg.Client({ connectionString: landlord.database.url });
    await client.connect();
    try {
      await client.query(
        `insert into invoices (id, product_id, tenant_id, status, currency, total_minor, created_at, updated_at)
         values ($1, $2, $3, 'draft', 'EUR', 500, now(), now())`,
        [id, product.id, record.id],
      );
    } finally {
      await client.end();
    }
    expect((await must(landlord.admin.get(`/v1/invoices/${id}`), 200)).body.data.billedTo).toBeNull();
    const later = { ...PROFILE, name: 'Changed Before Finalizing', vatId: null };
    await must(manager.put(path, { billingInformation: later }), 200);
    const finalized = (await must(landlord.admin.post(`/v1/invoices/${id}/finalize`), 200)).body.data;
    expect(finalized.status).toBe('open');
    expect(finalized.billedTo).toEqual(later);
    await must(manager.put(path, { billingInformation: PROFILE }), 200);
    expect((await must(landlord.admin.get(`/v1/invoices/${id}`), 200)).body.data.billedTo).toEqual(later);
  });

  it('a tenant without a billing profile gets an invoice billed to nobody in particular (null), not an error', async () => {
    const tenant = await roomleTenant(landlord, product);
    const invoice = await subscribeAndReadInvoice(tenant.name);
    expect(invoice.status).toBe('open');
    expect(invoice.billedTo).toBeNull();
  });

  it('the invoice.* webhooks carry billedTo, verified with the standardwebhooks package: the period invoice created and finalized, and its payment', async () => {
    const endpoint = await must(
      landlord.admin.post('/v1/webhook-endpoints', { url: `${receiver.url}/invoices`, product: product.name, eventTypes: ['invoice.*'] }),
      201,
    );
    const tenant = await roomleTenant(landlord, product);
    const manager = await roomleUserClient(landlord, product, tenant.name, ['tenant_management']);
    await must(manager.post(`/v2/tenants/${tenant.id}/billingInformation/`, { billingInformation: { ...PROFILE, currency: 'EUR' } }), 201);
    const invoice = await subscribeAndReadInvoice(tenant.name);
    await must(
      landlord.admin.post(`/v1/invoices/${invoice.id}/payments`, {
        provider: 'manual',
        reference: `pay-${invoice.id}`,
        amount: invoice.total,
      }),
      201,
    );
    const verifier = new Webhook(endpoint.body.data.secret);
    const payloads = await eventually(async () => {
      const mine = receiver
        .at('/invoices')
        .map((entry) => verifier.verify(entry.body, entry.headers as Record<string, string>) as { type: string; data: any })
        .filter((payload) => payload.data.invoice.id === invoice.id);
      return mine.length >= 3 ? mine : undefined;
    });
    expect(payloads.map((payload) => payload.type).sort()).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid']);
    for (const payload of payloads)
      expect(payload.data.invoice).toMatchObject({ id: invoice.id, number: invoice.number, billedTo: PROFILE });
  });
});
