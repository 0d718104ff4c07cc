import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, eventually, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';
import {
  addUser,
  basicClient,
  type CreatedMarketplace,
  createGroup,
  createMarketplace,
  documentMarketplace,
} from './marketplaces.test-support.ts';

// Isolation between marketplaces and bad input on the account API: the right status, the field
// named in `errors`, `success: false`, and nothing written.

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let mine: CreatedMarketplace;
let theirs: CreatedMarketplace;
let myGroup: { uid: string; tenant: { id: string; name: string } };
let theirGroup: { uid: string; tenant: { id: string; name: string } };
let theirUser: { uid: string };

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  mine = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
  theirs = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'some-telco', 'other-env'));
  myGroup = await createGroup(landlord, mine.id);
  theirGroup = await createGroup(landlord, theirs.id);
  await waitForStatus(landlord, theirGroup.tenant.name, 'created_as_active');
  theirUser = await addUser(landlord, theirs.id, theirGroup.uid, { email: `${uniqueName('t')}@example.com`, role: 'Super Admin' });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

// What a refused request could have written: a group's one-off bills and recurring bills (a recurring bill's
// executions are made in the background, so they are left out).
async function countBills(tenantId = myGroup.tenant.id) {
  const db = landlord.node.services.db;
  const bills = await db
    .selectFrom('bills')
    .select(db.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('recurring_bill_id', 'is', null)
    .executeTakeFirstOrThrow();
  const recurring = await db
    .selectFrom('recurring_bills')
    .select(db.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(bills.n) + Number(recurring.n);
}

describe('isolation', () => {
  it('a marketplace sees none of another’s groups, users, bills or recurring bills: lists leave them out, ids are 404', async () => {
    const bill = await theirs.account.post('/api/v1/account/bills', { group_id: theirGroup.uid, price_cents: 100, description: 'x' });
    const recurring = await theirs.account.post('/api/v1/account/recurring_bills', {
      group_id: theirGroup.uid,
      price_cents: 100,
      description: 'x',
      period: 'Week',
    });
    expect(bill.status).toBe(201);
    expect(recurring.status).toBe(201);
    for (const path of [
      `/api/v1/account/groups/${theirGroup.uid}`,
      `/api/v1/account/users/${theirUser.uid}`,
      `/api/v1/account/bills/${bill.body.data.id}`,
      `/api/v1/account/recurring_bills/${recurring.body.data.id}`,
    ]) {
      const response = await mine.account.get(path);
      expect(response.status, path).toBe(404);
      expect(response.body).toEqual({ success: false, errors: { id: ['does not exist'] }, data: null });
    }
    expect((await mine.account.delete(`/api/v1/account/bills/${bill.body.data.id}`)).status).toBe(404);
    expect((await mine.account.delete(`/api/v1/account/recurring_bills/${recurring.body.data.id}`)).status).toBe(404);
    expect((await theirs.account.get(`/api/v1/account/bills/${bill.body.data.id}`)).body.data.status).toBe('submitted');
    const groups = (await mine.account.get('/api/v1/account/groups')).body.data.map((group: { id: string }) => group.id);
    expect(groups).toEqual([myGroup.uid]);
    expect((await mine.account.get('/api/v1/account/users')).body.data).toEqual([]);
    expect((await mine.account.get('/api/v1/account/bills')).body.data).toEqual([]);
  });

  it('a marketplace cannot bill another’s group: 400 on group_id, nothing written', async () => {
    const before = await countBills(theirGroup.tenant.id);
    const response = await mine.account.post('/api/v1/account/bills', { group_id: theirGroup.uid, price_cents: 100, description: 'x' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      success: false,
      errors: { group_id: ['does not exist or cannot be charged by your service'] },
      data: null,
    });
    expect(await countBills(theirGroup.tenant.id)).toBe(before);
  });

  it('a bill that meets its group’s deletion in progress waits for it and is refused: 400 on group_id, nothing written', async () => {
    const doomed = await createGroup(landlord, mine.id);
    // The deletion's transaction, as `deleteGroup` holds it: the group row locked and marked deleted, not committed yet.
    const deletion = new pg.Client({ connectionString: landlord.database.url });
    await deletion.connect();
    try {
      await deletion.query('begin');
      await deletion.query('update marketplace_groups set deleted_at = now() where tenant_id = $1', [doomed.tenant.id]);
      const { rows } = await deletion.query<{ pid: number }>('select pg_backend_pid() as pid');
      const billing = mine.account.post('/api/v1/account/bills', { group_id: doomed.uid, price_cents: 100, description: 'x' });
      // The bill read the group unlocked (still undeleted to it); its write waits on the group's lock.
      await eventually(async () => {
        const waiting = await deletion.query('select 1 from pg_stat_activity where $1::int = any(pg_blocking_pids(pid))', [rows[0]?.pid]);
        return waiting.rowCount ? true : undefined;
      });
      await deletion.query('commit');
      const response = await billing;
      expect(response.status, response.text).toBe(400);
      expect(response.body.errors).toEqual({ group_id: ['does not exist or cannot be charged by your service'] });
      expect(await countBills(doomed.tenant.id)).toBe(0);
    } finally {
      await deletion.end();
    }
  });

  it('wrong or missing Basic credentials, and a product client’s bearer token, are 401 in Maestrano’s shape', async () => {
    const unauthorized = { success: false, errors: { authentication: ['Invalid API token'] }, data: null };
    for (const client of [
      basicClient(landlord.url, mine.apiId, `${mine.apiKey}x`),
      basicClient(landlord.url, theirs.apiId, mine.apiKey),
      basicClient(landlord.url, 'app-unknown', mine.apiKey),
      apiClient(landlord.url),
      product.client,
    ]) {
      const response = await client.get('/api/v1/account/groups');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(unauthorized);
      const post = await client.post('/api/v1/account/bills', { group_id: myGroup.uid, price_cents: 1, description: 'x' });
      expect(post.status).toBe(401);
    }
  });
});

describe('bad input: 400 naming the field, nothing written', () => {
  const cases: [string, string, Record<string, unknown> | string, string][] = [
    ['unknown group_id', '/api/v1/account/bills', { group_id: 'cld-999999', price_cents: 1, description: 'x' }, 'group_id'],
    ['a malformed group_id', '/api/v1/account/bills', { group_id: 'nope', price_cents: 1, description: 'x' }, 'group_id'],
    ['negative price_cents', '/api/v1/account/bills', { group_id: '$G', price_cents: -1, description: 'x' }, 'price_cents'],
    ['price_cents not a number (form)', '/api/v1/account/bills', 'group_id=$G&price_cents=abc&description=x', 'price_cents'],
    ['a missing description', '/api/v1/account/bills', { group_id: '$G', price_cents: 1 }, 'description'],
    [
      'one period end without the other',
      '/api/v1/account/bills',
      { group_id: '$G', price_cents: 1, description: 'x', period_started_at: '2015-06-01T00:00:00Z' },
      'period_ended_at',
    ],
    [
      'a period that ends before it starts',
      '/api/v1/account/bills',
      {
        group_id: '$G',
        price_cents: 1,
        description: 'x',
        period_started_at: '2015-07-01T00:00:00Z',
        period_ended_at: '2015-06-01T00:00:00Z',
      },
      'period_ended_at',
    ],
    ['a malformed form body', '/api/v1/account/bills', 'group_id=$G&price_cents=1&description=%E0%A4%A', 'description'],
    [
      'negative initial_cents',
      '/api/v1/account/recurring_bills',
      { group_id: '$G', price_cents: 1, description: 'x', period: 'Month', initial_cents: -5 },
      'initial_cents',
    ],
    [
      'period × frequency over a year',
      '/api/v1/account/recurring_bills',
      { group_id: '$G', price_cents: 1, description: 'x', period: 'Month', frequency: 13 },
      'frequency',
    ],
    [
      'SemiMonth with frequency 2 (form)',
      '/api/v1/account/recurring_bills',
      'group_id=$G&price_cents=1&description=x&period=SemiMonth&frequency=2',
      'frequency',
    ],
    [
      'an unknown period',
      '/api/v1/account/recurring_bills',
      { group_id: '$G', price_cents: 1, description: 'x', period: 'Fortnight' },
      'period',
    ],
    [
      'a start date that is not a date',
      '/api/v1/account/recurring_bills',
      { group_id: '$G', price_cents: 1, description: 'x', period: 'Day', start_date: 'tomorrow' },
      'start_date',
    ],
  ];
  for (const [what, path, body, field] of cases) {
    it(`${what} → errors.${field}`, async () => {
      const before = await countBills();
      const response =
        typeof body === 'string'
          ? await mine.account.raw('POST', path, body.replaceAll('$G', myGroup.uid), FORM)
          : await mine.account.post(path, JSON.parse(JSON.stringify(body).replaceAll('$G', myGroup.uid)));
      expect(response.status, response.text).toBe(400);
      expect(response.body.success).toBe(false);
      expect(response.body.data).toBeNull();
      expect(Object.keys(response.body.errors)).toContain(field);
      expect(response.body.errors[field][0]).toEqual(expect.any(String));
      expect(await countBills()).toBe(before);
    });
  }

  it('malformed JSON is 400 in the envelope', async () => {
    const response = await mine.account.raw('POST', '/api/v1/account/bills', '{"group_id": ', { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    expect(response.body.success).toBe(false);
  });

  it('cancelling an invoiced bill is refused (400) and changes nothing', async () => {
    const bill = await mine.account.post('/api/v1/account/bills', { group_id: myGroup.uid, price_cents: 100, description: 'x' });
    const db = landlord.node.services.db;
    await db
      .updateTable('bills')
      .set({ status: 'invoiced' })
      .where('number', '=', Number(bill.body.data.id.slice(5)))
      .execute();
    const response = await mine.account.delete(`/api/v1/account/bills/${bill.body.data.id}`);
    expect(response.status).toBe(400);
    expect(response.body.errors.bill[0]).toMatch(/invoice/);
    expect((await mine.account.get(`/api/v1/account/bills/${bill.body.data.id}`)).body.data.status).toBe('invoiced');
  });
});
