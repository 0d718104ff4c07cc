import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { createPlanPrice, createProduct } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type LandlordProcess, spawnLandlord } from '../../test/helpers/process.ts';
import { invoiceCount, renewalTotals, seedDueSubscriptions } from './commerce.test-support.ts';

const DAY_MS = 86_400_000;
let database: TestDatabase;
const started: LandlordProcess[] = [];
const nodes: TestLandlord[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const process of started) if (process.child.exitCode === null) process.child.kill('SIGKILL');
  for (const node of nodes) await node.close();
  await database?.drop();
});

/** Every subscription has exactly `boundaries` new periods (1…n, no gap, no double), one invoice and one line each. */
function expectOnePerBoundary(totals: Awaited<ReturnType<typeof renewalTotals>>, count: number, boundaries: number) {
  expect(totals.subscriptions).toHaveLength(count);
  const wrong = totals.subscriptions.filter(
    (s) => s.periods !== boundaries || s.maxNumber !== boundaries || s.invoices !== boundaries || s.lines !== boundaries,
  );
  expect(wrong).toEqual([]);
  // Invoice numbers of the product: 1…N, each once.
  expect(totals.invoices).toEqual({ count: count * boundaries, distinct: count * boundaries, min: 1, max: count * boundaries });
}

const env = () => ({
  DATABASE_URL: database.url,
  LANDLORD_ADMIN_KEY: TEST_ADMIN_KEY,
  LANDLORD_WORKER_POLL_MS: '100',
  LANDLORD_NODE_TIMEOUT_SECONDS: '2',
  LANDLORD_DATABASE_POOL_SIZE: '6',
  LANDLORD_WORKER_CONCURRENCY: '2',
  LANDLORD_RENEWAL_BATCH_SIZE: '100',
  LANDLORD_HEALTH_CONCURRENCY: '0',
});

it('opens exactly one period and one invoice per boundary after a SIGKILL in the middle of a renewal burst', async () => {
  const first = await spawnLandlord(env());
  started.push(first);
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const product = await createProduct(admin);
  const price = await createPlanPrice(admin, product.name);
  const count = 2000;
  // Three daily boundaries are due for every subscription: 6,000 periods and invoices to write.
  await seedDueSubscriptions(database.url, {
    productId: product.id,
    priceId: price.id,
    count,
    anchor: new Date(Date.now() - 3 * DAY_MS - 3_600_000),
    prefix: 'crash',
  });
  await eventually(
    async () => ((await invoiceCount(database.url, product.id)) > 0 ? true : undefined),
    60_000,
    'the renewal burst started',
  );
  first.child.kill('SIGKILL');
  await first.exited;
  const before = await renewalTotals(database.url, product.id);
  expect(before.invoices.count).toBeLessThan(count * 3);

  const second = await spawnLandlord(env());
  started.push(second);
  await eventually(
    async () => ((await invoiceCount(database.url, product.id)) >= count * 3 ? true : undefined),
    120_000,
    'every boundary renewed',
  );
  // Let the node look once more: nothing is left due, and nothing is written twice.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expectOnePerBoundary(await renewalTotals(database.url, product.id), count, 3);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 240_000);

it('renews thousands of subscriptions due in the same second on two nodes, each boundary exactly once', async () => {
  const a = await startTestLandlord({ database, env: { LANDLORD_RENEWAL_BATCH_SIZE: '200', LANDLORD_HEALTH_CONCURRENCY: '0' } });
  nodes.push(a);
  const b = await startTestLandlord({ database, env: { LANDLORD_RENEWAL_BATCH_SIZE: '200', LANDLORD_HEALTH_CONCURRENCY: '0' } });
  nodes.push(b);
  const product = await createProduct(a.admin);
  const price = await createPlanPrice(a.admin, product.name);
  const count = 3000;
  const anchor = new Date(Math.floor((Date.now() - DAY_MS) / 1000) * 1000 - 1000);
  await seedDueSubscriptions(database.url, { productId: product.id, priceId: price.id, count, anchor, prefix: 'twonode' });
  const sweepA = a.node.sweeps.get('renewals');
  const sweepB = b.node.sweeps.get('renewals');
  if (!sweepA || !sweepB) throw new Error('no renewals sweep');
  await Promise.all([sweepA.runNow(), sweepB.runNow(), sweepA.runNow(), sweepB.runNow()]);
  await eventually(
    async () => ((await invoiceCount(database.url, product.id)) >= count ? true : undefined),
    60_000,
    'every subscription renewed',
  );
  await Promise.all([sweepA.runNow(), sweepB.runNow()]);
  expectOnePerBoundary(await renewalTotals(database.url, product.id), count, 1);
  // Both nodes took part, and together they renewed each subscription once.
  const renewedBy = async (node: TestLandlord) => {
    const text = (await node.as(undefined).get('/metrics')).text;
    return Number(/landlord_subscription_renewals_total\{outcome="renewed"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const [byA, byB] = [await renewedBy(a), await renewedBy(b)];
  expect(byA).toBeGreaterThan(0);
  expect(byB).toBeGreaterThan(0);
  expect(byA + byB).toBe(count);
}, 180_000);
