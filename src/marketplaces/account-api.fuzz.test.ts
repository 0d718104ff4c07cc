import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { peopleProduct } from '../people/people.test-support.ts';
import { type CreatedMarketplace, createGroup, createMarketplace, documentMarketplace } from './marketplaces.test-support.ts';

// Whatever an app posts to the account API, the answer is never a 5xx, and a refusal is a 4xx in
// Maestrano's envelope with every field at fault named.

let landlord: TestLandlord;
let backend: BackendSimulator;
let marketplace: CreatedMarketplace;
let group: string;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  const product = await peopleProduct(landlord, backend.url);
  marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
  group = (await createGroup(landlord, marketplace.id)).uid;
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

const value = () =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.integer({ min: -1e6, max: 1e16 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('Month', 'SemiMonth', 'day', '2027-01-01T00:00:00Z', 'cld-1', '%zz', '', '0', '-5', '1e3'),
    fc.array(fc.integer(), { maxLength: 2 }),
  );
const fields = [
  'group_id',
  'price_cents',
  'description',
  'currency',
  'units',
  'period',
  'frequency',
  'cycles',
  'start_date',
  'initial_cents',
  'period_started_at',
  'period_ended_at',
];

it('never answers 5xx to random bodies, JSON or form-encoded; refusals name their fields', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/api/v1/account/bills', '/api/v1/account/recurring_bills'),
      fc.dictionary(fc.constantFrom(...fields), value(), { maxKeys: 8 }),
      fc.boolean(),
      fc.boolean(),
      async (path, body, useGroup, asForm) => {
        const sent: Record<string, unknown> = useGroup ? { ...body, group_id: group } : body;
        const response = asForm
          ? await marketplace.account.raw(
              'POST',
              path,
              Object.entries(sent)
                .map(
                  ([key, item]) =>
                    `${encodeURIComponent(key)}=${typeof item === 'string' && item.includes('%') ? item : encodeURIComponent(String(item))}`,
                )
                .join('&'),
              { 'content-type': 'application/x-www-form-urlencoded' },
            )
          : await marketplace.account.post(path, sent);
        expect(response.status, response.text).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.body.success).toBe(false);
          expect(Object.keys(response.body.errors).length).toBeGreaterThan(0);
        } else expect(response.body.success).toBe(true);
      },
    ),
    { numRuns: 150 },
  );
}, 120_000);
