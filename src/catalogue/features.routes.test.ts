import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { auditOf, clientToken, created, parametersOf } from './catalogue.test-support.ts';

let landlord: TestLandlord;
let product: { id: string; name: string };
let other: { id: string; name: string };
beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await createProduct(landlord.admin);
  other = await createProduct(landlord.admin);
});
afterAll(async () => {
  await landlord?.close();
});

const features = (productRef = product.name) => `/v1/products/${productRef}/features`;
const newFeature = (body: Record<string, unknown> = {}) =>
  created(landlord.admin, features(), { name: uniqueName('feature'), displayName: 'A feature', type: 'number', ...body });
const attach = async (feature: string) => {
  const plan = await created(landlord.admin, `/v1/products/${product.name}/plans`, { name: uniqueName('plan'), displayName: 'P' });
  await created(landlord.admin, `/v1/products/${product.name}/plans/${plan.name}/features`, { feature });
  return plan;
};

describe('POST /v1/products/{product}/features', () => {
  it('creates a feature, answers with its ETag, and audits it', async () => {
    const response = await landlord.admin.post(features(), {
      name: 'storage',
      displayName: 'Storage',
      type: 'number',
      unit: 'GB',
      description: 'Disk',
    });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      productId: product.id,
      name: 'storage',
      type: 'number',
      unit: 'GB',
      description: 'Disk',
      version: 1,
    });
    expect(response.headers.etag).toMatch(/\.1"$/);
    expect((await landlord.admin.get(`${features()}/storage`)).body.data.id).toBe(response.body.data.id);
    expect((await landlord.admin.get(`${features(product.id)}/${response.body.data.id}`)).body.data.name).toBe('storage');
    expect(await auditOf(landlord, response.body.data.id)).toEqual([
      expect.objectContaining({ action: 'feature.create', after: response.body.data }),
    ]);
  });

  it('refuses a taken name (409 feature.name_taken) and names every bad field', async () => {
    const feature = await newFeature({ type: 'boolean' });
    expect(feature.unit).toBeNull();
    const clash = await landlord.admin.post(features(), { name: feature.name, displayName: 'x', type: 'boolean' });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0]).toMatchObject({ code: 'feature.name_taken', parameter: 'name' });
    const bad = await landlord.admin.post(features(), { name: '-x', displayName: 'x', type: 'text', unit: '', limit: 3 });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['name', 'type', 'unit', 'limit']));
  });

  it('answers 404 for an unknown product', async () => {
    expect((await landlord.admin.post(features('nope'), { name: 'x', displayName: 'x', type: 'number' })).status).toBe(404);
  });
});

describe('GET /v1/products/{product}/features', () => {
  it('lists the product’s features in cursor pages', async () => {
    const mine = await createProduct(landlord.admin);
    const names = ['f-a', 'f-b', 'f-c'];
    for (const name of names) await created(landlord.admin, features(mine.name), { name, displayName: name, type: 'boolean' });
    const first = await landlord.admin.get(`${features(mine.name)}?limit=2`);
    const second = await landlord.admin.get(`${features(mine.name)}?limit=2&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect([...first.body.data, ...second.body.data].map((feature: { name: string }) => feature.name)).toEqual(names);
    expect(second.body.metadata.pagination.nextCursor).toBeNull();
    expect((await landlord.admin.get(`${features(mine.name)}?limit=0`)).status).toBe(400);
  });

  it('answers 404 feature.not_found for an unknown feature', async () => {
    const response = await landlord.admin.get(`${features()}/nope`);
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'feature.not_found', parameter: 'feature' });
  });
});

describe('PATCH /v1/products/{product}/features/{feature}', () => {
  it('changes a feature, clears its unit with null, and honours If-Match', async () => {
    const feature = await newFeature({ unit: 'users' });
    const etag = (await landlord.admin.get(`${features()}/${feature.name}`)).headers.etag as string;
    const patched = await landlord.admin.patch(
      `${features()}/${feature.name}`,
      { displayName: 'Seats', unit: null, type: 'boolean' },
      { 'if-match': etag },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ displayName: 'Seats', unit: null, type: 'boolean', version: 2 });
    expect((await landlord.admin.patch(`${features()}/${feature.name}`, { displayName: 'x' }, { 'if-match': etag })).status).toBe(412);
    expect((await auditOf(landlord, feature.id)).at(-1)).toMatchObject({
      action: 'feature.update',
      before: { unit: 'users' },
      after: { unit: null },
    });
  });

  it('refuses to change the type of a feature plans include (409 feature.in_use), a taken name and an unknown feature', async () => {
    const feature = await newFeature();
    await attach(feature.name);
    const retype = await landlord.admin.patch(`${features()}/${feature.name}`, { type: 'boolean' });
    expect(retype.status).toBe(409);
    expect(retype.body.metadata.errors[0]).toMatchObject({ code: 'feature.in_use', parameter: 'type' });
    expect((await landlord.admin.patch(`${features()}/${feature.name}`, { type: 'number', unit: 'GB' })).status).toBe(200);
    const taken = await newFeature();
    const clash = await landlord.admin.patch(`${features()}/${feature.name}`, { name: taken.name });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0].code).toBe('feature.name_taken');
    expect((await landlord.admin.patch(`${features()}/nope`, { unit: 'x' })).status).toBe(404);
  });
});

describe('DELETE /v1/products/{product}/features/{feature}', () => {
  it('deletes an unused feature, and refuses (409 feature.in_use) one plans include', async () => {
    const unused = await newFeature();
    expect((await landlord.admin.delete(`${features()}/${unused.name}`)).body.data).toEqual({ id: unused.id, deleted: true });
    expect((await landlord.admin.get(`${features()}/${unused.name}`)).status).toBe(404);
    expect((await auditOf(landlord, unused.id)).at(-1)).toMatchObject({ action: 'feature.delete' });

    const used = await newFeature();
    const plan = await attach(used.name);
    const refused = await landlord.admin.delete(`${features()}/${used.name}`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'feature.in_use', parameter: 'feature' });
    await landlord.admin.delete(`/v1/products/${product.name}/plans/${plan.name}/features/${used.name}`);
    expect((await landlord.admin.delete(`${features()}/${used.name}`)).status).toBe(200);
  });

  it('honours If-Match', async () => {
    const feature = await newFeature();
    expect((await landlord.admin.delete(`${features()}/${feature.name}`, { 'if-match': '"000000000000.3"' })).status).toBe(412);
  });
});

describe('access to features', () => {
  it('refuses a call without a credential (401)', async () => {
    expect((await landlord.as(undefined).get(features())).status).toBe(401);
  });

  it('lets the product’s product_admin do everything, and hides the product from another one (404)', async () => {
    const own = landlord.as(await productAdminKey(landlord, product.name));
    const feature = await created(own, features(), { name: uniqueName('feature'), displayName: 'x', type: 'number' });
    expect((await own.get(features())).status).toBe(200);
    expect((await own.delete(`${features()}/${feature.name}`)).status).toBe(200);
    const foreign = landlord.as(await productAdminKey(landlord, other.name));
    const target = await newFeature();
    expect((await foreign.get(`${features()}/${target.name}`)).status).toBe(404);
    expect((await foreign.patch(`${features()}/${target.name}`, { unit: 'x' })).status).toBe(404);
  });

  it('lets a client create and change features of its product, but not delete them', async () => {
    const client = landlord.as(await clientToken(landlord, product.id));
    const feature = await created(client, features(), { name: uniqueName('feature'), displayName: 'x', type: 'number' });
    expect((await client.patch(`${features()}/${feature.name}`, { unit: 'calls' })).body.data.unit).toBe('calls');
    expect((await client.delete(`${features()}/${feature.name}`)).status).toBe(403);
    expect((await landlord.as(await clientToken(landlord, other.id)).get(`${features()}/${feature.name}`)).status).toBe(404);
  });
});
