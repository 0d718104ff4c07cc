import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { subscribedTenant, type UsageProduct, usageProduct } from '../usage/usage.test-support.ts';
import { type ConsoleSession, signInToConsole } from './console.test-support.ts';

// The invoices page and an invoice's actions, through the real app and the invoice services of /v1.
let landlord: TestLandlord;
let product: UsageProduct;
let admin: ConsoleSession;

beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await usageProduct(landlord, {});
  admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
});
afterAll(async () => {
  await landlord?.close();
});

/** A tenant of the product with its first invoice (the subscription's first period). */
async function invoiced() {
  const tenant = await subscribedTenant(landlord, product);
  const invoices = (await landlord.admin.get(`/v1/tenants/${tenant.name}/invoices`)).body.data;
  expect(invoices.length).toBeGreaterThan(0);
  return { tenant, invoice: invoices[0] as { id: string; tenantId: string; status: string; number: number | null; total: number } };
}

const invoiceOf = async (id: string) => (await landlord.admin.get(`/v1/invoices/${id}`)).body.data;

describe('the invoices page', () => {
  it('lists invoices by status and currency with totals per currency, and an invoice with its lines by source', async () => {
    const { tenant, invoice } = await invoiced();
    const page = await admin.get(`/console/invoices?product=${product.name}&currency=EUR`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Totals per currency');
    expect(page.text).toContain(`href="/console/invoices/${invoice.id}"`);
    expect(page.text).toContain(tenant.name);
    const other = invoice.status === 'paid' ? 'void' : 'paid';
    expect((await admin.get(`/console/invoices?product=${product.name}&status=${other}`)).text).not.toContain(invoice.id);
    const detail = await admin.get(`/console/invoices/${invoice.id}`);
    expect(detail.status).toBe(200);
    expect(detail.text).toMatch(/<h2>Lines: [a-z_]+<\/h2>/);
    expect(detail.text).toContain('10.00 EUR');
    const another = await invoiced();
    const theirs = await admin.get(`/console/invoices?tenant=${tenant.id}`);
    expect(theirs.text).toContain(invoice.id);
    expect(theirs.text).not.toContain(another.invoice.id);
  });

  it('finalizes a draft, records a payment that makes it paid, and voids only with a confirmation naming it', async () => {
    const { invoice } = await invoiced();
    if (invoice.status === 'draft') {
      expect((await admin.post(`/console/invoices/${invoice.id}/finalize`)).status).toBe(303);
    }
    const open = await invoiceOf(invoice.id);
    expect(open.status).toBe('open');
    const refused = await admin.post(`/console/invoices/${invoice.id}/void`, { confirm: `invoice-${open.number + 1}` });
    expect(refused.status).toBe(422);
    expect((await invoiceOf(invoice.id)).status).toBe('open');
    const badAmount = await admin.post(`/console/invoices/${invoice.id}/payments`, { amount: '0', provider: 'manual', reference: 'r0' });
    expect(badAmount.status).toBe(400);
    expect(badAmount.text).toContain('amount');
    const forged = await admin.browser.send(
      'POST',
      `/console/invoices/${invoice.id}/payments`,
      { amount: String(open.due), provider: 'manual', reference: 'r1' },
      { origin: new URL(landlord.url).origin },
    );
    expect(forged.status).toBe(403);
    expect((await invoiceOf(invoice.id)).paid).toBe(0);
    const paid = await admin.post(`/console/invoices/${invoice.id}/payments`, {
      amount: String(open.due),
      provider: 'manual',
      reference: `r-${invoice.id}`,
    });
    expect(paid.status, paid.text).toBe(303);
    expect(await invoiceOf(invoice.id)).toMatchObject({ status: 'paid', due: 0 });

    const second = await invoiced();
    const secondName = second.invoice.number === null ? `draft-${second.invoice.id.slice(0, 8)}` : `invoice-${second.invoice.number}`;
    expect((await admin.get(`/console/invoices/${second.invoice.id}`)).text).toContain(secondName);
    expect((await admin.post(`/console/invoices/${second.invoice.id}/void`, { confirm: secondName })).status).toBe(303);
    expect((await invoiceOf(second.invoice.id)).status).toBe('void');
    const audit = await landlord.node.services.db
      .selectFrom('audit_log')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'invoice.void')
      .where('object_id', '=', second.invoice.id)
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_type: 'admin_key', actor_id: 'admin-key' });
  });

  it('shows a product-scoped operator only its product’s invoices and 404 for another’s', async () => {
    const { invoice } = await invoiced();
    const other = await createProduct(landlord.admin);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, other.name));
    expect((await scoped.get('/console/invoices')).text).not.toContain(invoice.id);
    expect((await scoped.get(`/console/invoices/${invoice.id}`)).status).toBe(404);
    expect((await scoped.post(`/console/invoices/${invoice.id}/finalize`)).status).toBe(404);
    expect((await scoped.post(`/console/invoices/${invoice.id}/void`, { confirm: 'x' })).status).toBe(404);
    expect((await scoped.get(`/console/invoices?product=${product.name}`)).text).not.toContain(invoice.id);
    expect((await scoped.get(`/console/invoices?tenant=${invoice.tenantId}`)).status).toBe(404);
  });

  it('puts renewals that keep failing and open invoices of past-due subscriptions on the overview, for their product only', async () => {
    const { tenant, invoice } = await invoiced();
    if (invoice.status === 'draft') expect((await admin.post(`/console/invoices/${invoice.id}/finalize`)).status).toBe(303);
    // The state the renewal engine and the collections sweep leave behind (their own tests prove they do).
    await landlord.node.services.db
      .updateTable('subscriptions')
      .set({ status: 'past_due', renewal_failures: 2, renewal_failed_at: new Date(), renewal_error: 'card <declined>' })
      .where('tenant_id', '=', tenant.id)
      .execute();
    const overview = await admin.get('/console');
    expect(overview.text).toMatch(new RegExp(`Renewals failing</h2><ul>.*${tenant.name}</a>: 2 failures`, 's'));
    expect(overview.text).toContain('(card &lt;declined&gt;)');
    expect(overview.text).toMatch(new RegExp(`Past-due invoices</h2><ul>.*href="/console/invoices/${invoice.id}"`, 's'));
    const other = await createProduct(landlord.admin);
    const scoped = await signInToConsole(landlord.url, await productAdminKey(landlord, other.name));
    const theirs = await scoped.get('/console');
    expect(theirs.text).not.toContain(tenant.name);
    expect(theirs.text).toContain('No invoice is past due.');
  });
});
