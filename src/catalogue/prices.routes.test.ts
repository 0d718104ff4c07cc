import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { auditOf, clientToken, created, insertTenant, parametersOf } from './catalogue.test-support.ts';

let landlord: TestLandlord;
let product: { id: string; name: string };
let other: { id: string; name: string };
let plan: { id: string; name: string };
beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await createProduct(landlord.admin);
  other = await createProduct(landlord.admin);
  plan = await created(landlord.admin, `/v1/products/${product.name}/plans`, { name: 'pro', displayName: 'Pro' });
});
afterAll(async () => {
  await landlord?.close();
});

const prices = (planRef = plan.name, productRef = product.name) => `/v1/products/${productRef}/plans/${planRef}/prices`;
const newPrice = (body: Record<string, unknown> = {}) =>
  created(landlord.admin, prices(), { name: uniqueName('price'), cycle: 'month', amount: 1999, currency: 'EUR', ...body });

describe('POST /v1/products/{product}/plans/{plan}/prices', () => {
  it('creates a draft price in minor units, answers with its ETag, and audits it', async () => {
    const response = await landlord.admin.post(prices(), { name: 'pro-monthly', cycle: 'month', amount: 1999, currency: 'EUR' });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      productId: product.id,
      planId: plan.id,
      name: 'pro-monthly',
      cycle: 'month',
      customDays: null,
      amount: 1999,
      currency: 'EUR',
      published: false,
      version: 1,
    });
    expect(response.headers.etag).toMatch(/\.1"$/);
    expect((await landlord.admin.get(`${prices()}/pro-monthly`)).body.data.id).toBe(response.body.data.id);
    expect((await landlord.admin.get(`${prices(plan.id)}/${response.body.data.id}`)).status).toBe(200);
    expect(await auditOf(landlord, response.body.data.id)).toEqual([
      expect.objectContaining({ action: 'price.create', after: response.body.data }),
    ]);
  });

  it('takes every cycle; custom needs customDays, and only custom takes it', async () => {
    for (const cycle of ['day', 'week', 'year', 'unlimited']) expect((await newPrice({ cycle })).cycle).toBe(cycle);
    expect(await newPrice({ cycle: 'custom', customDays: 90, published: true })).toMatchObject({ customDays: 90, published: true });
    const missing = await landlord.admin.post(prices(), { name: uniqueName('price'), cycle: 'custom', amount: 1, currency: 'EUR' });
    expect(missing.status).toBe(400);
    expect(missing.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'customDays' });
    const extra = await landlord.admin.post(prices(), {
      name: uniqueName('price'),
      cycle: 'month',
      customDays: 30,
      amount: 1,
      currency: 'EUR',
    });
    expect(extra.status).toBe(400);
    expect(extra.body.metadata.errors[0].parameter).toBe('customDays');
  });

  it('names every bad field: cycle, amount, currency, customDays, unknown field', async () => {
    const bad = await landlord.admin.post(prices(), {
      name: 'ok-name',
      cycle: 'fortnight',
      amount: -1,
      currency: 'eur',
      customDays: 0,
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['cycle', 'amount', 'currency', 'customDays', 'colour']));
    const fraction = await landlord.admin.post(prices(), { name: 'ok-name', cycle: 'month', amount: 9.99, currency: 'EUR' });
    expect(fraction.status).toBe(400);
    expect(parametersOf(fraction)).toEqual(['amount']);
    const huge = await landlord.admin.post(prices(), { name: 'ok-name', cycle: 'month', amount: 1e20, currency: 'EUR' });
    expect(huge.status).toBe(400);
    expect(parametersOf(huge)).toEqual(['amount']);
    const missing = await landlord.admin.post(prices(), { name: 'ok-name' });
    expect(parametersOf(missing)).toEqual(expect.arrayContaining(['cycle', 'amount', 'currency']));
  });

  it('keeps price names unique across the plans of a product (409 price.name_taken)', async () => {
    const price = await newPrice();
    const second = await created(landlord.admin, `/v1/products/${product.name}/plans`, { name: uniqueName('plan'), displayName: 'Second' });
    const clash = await landlord.admin.post(prices(second.name), { name: price.name, cycle: 'year', amount: 1, currency: 'EUR' });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0]).toMatchObject({ code: 'price.name_taken', parameter: 'name' });
  });

  it('answers 404 for an unknown plan or product', async () => {
    const body = { name: uniqueName('price'), cycle: 'month', amount: 1, currency: 'EUR' };
    expect((await landlord.admin.post(prices('nope'), body)).body.metadata.errors[0].code).toBe('plan.not_found');
    expect((await landlord.admin.post(prices(plan.name, 'nope'), body)).body.metadata.errors[0].code).toBe('product.not_found');
  });
});

describe('GET /v1/products/{product}/plans/{plan}/prices', () => {
  it('lists only the plan’s prices, in pages, optionally only the published ones', async () => {
    const own = await created(landlord.admin, `/v1/products/${product.name}/plans`, { name: uniqueName('plan'), displayName: 'Own' });
    const names = [uniqueName('price'), uniqueName('price'), uniqueName('price')];
    for (const [index, name] of names.entries())
      await created(landlord.admin, prices(own.name), { name, cycle: 'month', amount: index, currency: 'EUR', published: index !== 1 });
    const first = await landlord.admin.get(`${prices(own.name)}?limit=2`);
    expect(first.body.data.map((price: { name: string }) => price.name)).toEqual(names.slice(0, 2));
    const second = await landlord.admin.get(`${prices(own.name)}?limit=2&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect(second.body.data.map((price: { name: string }) => price.name)).toEqual(names.slice(2));
    expect(second.body.metadata.pagination.nextCursor).toBeNull();
    const published = await landlord.admin.get(`${prices(own.name)}?published=true`);
    expect(published.body.data.map((price: { name: string }) => price.name)).toEqual([names[0], names[2]]);
  });

  it('answers 404 price.not_found for a price of another plan', async () => {
    const price = await newPrice();
    const own = await created(landlord.admin, `/v1/products/${product.name}/plans`, { name: uniqueName('plan'), displayName: 'Own' });
    const response = await landlord.admin.get(`${prices(own.name)}/${price.name}`);
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'price.not_found', parameter: 'price' });
  });
});

describe('PATCH /v1/products/{product}/plans/{plan}/prices/{price}', () => {
  it('changes a price, drops customDays when leaving custom, and honours If-Match', async () => {
    const price = await newPrice({ cycle: 'custom', customDays: 14 });
    const etag = (await landlord.admin.get(`${prices()}/${price.name}`)).headers.etag as string;
    const patched = await landlord.admin.patch(
      `${prices()}/${price.name}`,
      { cycle: 'week', amount: 500, currency: 'USD' },
      { 'if-match': etag },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ cycle: 'week', customDays: null, amount: 500, currency: 'USD', version: 2 });
    const stale = await landlord.admin.patch(`${prices()}/${price.name}`, { amount: 1 }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    const audit = await auditOf(landlord, price.id);
    expect(audit.at(-1)).toMatchObject({ action: 'price.update', before: { amount: 1999, customDays: 14 }, after: { amount: 500 } });
  });

  it('refuses custom without customDays, customDays on another cycle, a taken name and a bad field', async () => {
    const price = await newPrice();
    const custom = await landlord.admin.patch(`${prices()}/${price.name}`, { cycle: 'custom' });
    expect(custom.status).toBe(400);
    expect(custom.body.metadata.errors[0].parameter).toBe('customDays');
    expect((await landlord.admin.patch(`${prices()}/${price.name}`, { customDays: 7 })).status).toBe(400);
    expect((await landlord.admin.patch(`${prices()}/${price.name}`, { cycle: 'custom', customDays: 7 })).body.data.customDays).toBe(7);
    const taken = await newPrice();
    const clash = await landlord.admin.patch(`${prices()}/${price.name}`, { name: taken.name });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0].code).toBe('price.name_taken');
    const bad = await landlord.admin.patch(`${prices()}/${price.name}`, { currency: 'EURO', planId: plan.id });
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['currency', 'planId']));
  });
});

describe('POST …/prices/{price}/publish and /unpublish', () => {
  it('publishes and unpublishes, audited, and refuses a stale If-Match', async () => {
    const price = await newPrice();
    const published = await landlord.admin.post(`${prices()}/${price.name}/publish`);
    expect(published.body.data).toMatchObject({ published: true, version: 2 });
    const stale = await landlord.admin.post(`${prices()}/${price.name}/unpublish`, undefined, { 'if-match': '"000000000000.1"' });
    expect(stale.status).toBe(412);
    const unpublished = await landlord.admin.post(`${prices()}/${price.id}/unpublish`, undefined, {
      'if-match': published.headers.etag as string,
    });
    expect(unpublished.body.data).toMatchObject({ published: false, version: 3 });
    expect((await auditOf(landlord, price.id)).map((record) => record.action)).toEqual([
      'price.create',
      'price.publish',
      'price.unpublish',
    ]);
    expect((await landlord.admin.post(`${prices()}/nope/publish`)).status).toBe(404);
  });
});

describe('DELETE /v1/products/{product}/plans/{plan}/prices/{price}', () => {
  it('deletes an unused price and refuses (409 price.in_use) one a tenant is on', async () => {
    const unused = await newPrice();
    const deleted = await landlord.admin.delete(`${prices()}/${unused.name}`);
    expect(deleted.body.data).toEqual({ id: unused.id, deleted: true });
    expect((await landlord.admin.get(`${prices()}/${unused.name}`)).status).toBe(404);
    expect((await auditOf(landlord, unused.id)).at(-1)).toMatchObject({ action: 'price.delete', before: { name: unused.name } });

    const used = await newPrice();
    await insertTenant(landlord, product.id, { planPriceId: used.id });
    const refused = await landlord.admin.delete(`${prices()}/${used.name}`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'price.in_use', parameter: 'price' });
    expect(refused.body.metadata.errors[0].message).toContain('1 tenant');
  });

  it('honours If-Match and answers 404 for an unknown price', async () => {
    const price = await newPrice();
    expect((await landlord.admin.delete(`${prices()}/${price.name}`, { 'if-match': '"000000000000.4"' })).status).toBe(412);
    expect((await landlord.admin.delete(`${prices()}/nope`)).status).toBe(404);
  });
});

describe('access to prices', () => {
  it('refuses a call without a credential (401)', async () => {
    expect((await landlord.as(undefined).get(prices())).status).toBe(401);
    expect((await landlord.as(undefined).post(prices(), {})).status).toBe(401);
  });

  it('lets the product’s product_admin do everything, and hides the product from another one (404)', async () => {
    const own = landlord.as(await productAdminKey(landlord, product.name));
    const price = await created(own, prices(), { name: uniqueName('price'), cycle: 'day', amount: 5, currency: 'GBP' });
    expect((await own.patch(`${prices()}/${price.name}`, { amount: 6 })).status).toBe(200);
    expect((await own.delete(`${prices()}/${price.name}`)).status).toBe(200);

    const foreign = landlord.as(await productAdminKey(landlord, other.name));
    const target = await newPrice();
    expect((await foreign.get(`${prices()}/${target.name}`)).status).toBe(404);
    expect((await foreign.post(prices(), { name: uniqueName('price'), cycle: 'day', amount: 5, currency: 'GBP' })).status).toBe(404);
    expect((await foreign.delete(`${prices()}/${target.name}`)).status).toBe(404);
  });

  it('lets a client create, change and publish prices of its product, but not delete them', async () => {
    const client = landlord.as(await clientToken(landlord, product.id));
    const price = await created(client, prices(), { name: uniqueName('price'), cycle: 'year', amount: 10000, currency: 'EUR' });
    expect((await client.patch(`${prices()}/${price.name}`, { amount: 9000 })).body.data.amount).toBe(9000);
    expect((await client.post(`${prices()}/${price.name}/publish`)).body.data.published).toBe(true);
    expect((await client.delete(`${prices()}/${price.name}`)).status).toBe(403);
    expect((await landlord.as(await clientToken(landlord, other.id)).get(`${prices()}/${price.name}`)).status).toBe(404);
  });
});
