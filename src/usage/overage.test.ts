import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { manualClock } from '../platform/clock.ts';
import { overageSourceKey } from './overage.ts';
import { eventsOf, subscribedTenant, type UsageProduct, usageEvent, usageProduct } from './usage.test-support.ts';

let landlord: TestLandlord;
let product: UsageProduct;
const start = new Date('2026-03-10T11:00:00Z');
const clock = manualClock(start);

beforeAll(async () => {
  landlord = await startTestLandlord({ clock });
  product = await usageProduct(landlord, {
    api_calls: { limit: 100, reset: 'month', overageUnitPrice: 5 },
    seats: { limit: 10, reset: 'month' },
  });
});
afterAll(async () => {
  await landlord?.close();
});

describe('overage', () => {
  it('bills usage past the limit once, on an invoice of its own, after the window’s grace; a window without an overage price is settled unbilled', async () => {
    // Anchored on Feb 10 12:00: the window [Feb 10 12:00, Mar 10 12:00) closes to late events at 13:00.
    const tenant = await subscribedTenant(landlord, product, { since: new Date('2026-02-10T12:00:00Z'), clock });
    const report = await landlord.admin.post('/v1/usage', {
      product: product.name,
      events: [
        usageEvent(tenant.name, 'api_calls', 120, new Date('2026-03-10T10:59:00Z')),
        usageEvent(tenant.name, 'seats', 15, new Date('2026-03-10T10:59:00Z')),
      ],
    });
    expect(report.body.data.accepted).toBe(2);
    const { db } = landlord.node.services;
    const sweep = landlord.node.sweeps.get('usage-overage');
    if (!sweep) throw new Error('no usage-overage sweep');
    const usageLines = () =>
      db
        .selectFrom('invoice_lines')
        .innerJoin('invoices', 'invoices.id', 'invoice_lines.invoice_id')
        .select([
          'invoice_lines.source_key',
          'invoice_lines.quantity',
          'invoice_lines.amount_minor',
          'invoices.status',
          'invoices.number',
          'invoices.total_minor',
        ])
        .where('invoices.tenant_id', '=', tenant.id)
        .where('invoice_lines.kind', '=', 'usage')
        .execute();
    try {
      clock.set(new Date('2026-03-10T12:59:59.999Z'));
      await sweep.runNow();
      expect(await usageLines()).toEqual([]);
      clock.set(new Date('2026-03-10T13:00:00Z'));
      await sweep.runNow();
      await sweep.runNow();
    } finally {
      clock.set(start);
    }
    const features = await db.selectFrom('features').select(['id', 'name']).where('product_id', '=', product.id).execute();
    const apiCalls = features.find((feature) => feature.name === 'api_calls')?.id as string;
    const lines = await usageLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      source_key: overageSourceKey(tenant.id, apiCalls, new Date('2026-02-10T12:00:00Z')),
      amount_minor: 100,
      status: 'open',
      total_minor: 100,
    });
    expect(Number(lines[0]?.quantity)).toBe(20);
    expect(lines[0]?.number).toBeGreaterThan(0);
    const settled = await db.selectFrom('usage_totals').select(['settled_at']).where('tenant_id', '=', tenant.id).execute();
    expect(settled.map((row) => row.settled_at?.toISOString())).toEqual(['2026-03-10T13:00:00.000Z', '2026-03-10T13:00:00.000Z']);
    expect(
      (await eventsOf(landlord, tenant.id, 'invoice.finalized')).map(
        (event) => (event.data as { invoice: { total: number } }).invoice.total,
      ),
    ).toContain(100);
  });
});
