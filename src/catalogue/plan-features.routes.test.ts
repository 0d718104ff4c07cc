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

const base = (productRef = product.name) => `/v1/products/${productRef}`;
const included = (plan: string, productRef = product.name) => `${base(productRef)}/plans/${plan}/features`;
const newPlan = () => created(landlord.admin, `${base()}/plans`, { name: uniqueName('plan'), displayName: 'Plan' });
const newFeature = (body: Record<string, unknown> = {}) =>
  created(landlord.admin, `${base()}/features`, {
    name: uniqueName('feature'),
    displayName: 'Feature',
    type: 'number',
    unit: 'GB',
    ...body,
  });

describe('POST /v1/products/{product}/plans/{plan}/features', () => {
  it('includes a feature by name with its unit by default, answers with its ETag, and audits it', async () => {
    const plan = await newPlan();
    const feature = await newFeature({ displayName: 'Storage' });
    const response = await landlord.admin.post(included(plan.name), { feature: feature.name, limit: 100, reset: 'month' });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      planId: plan.id,
      featureId: feature.id,
      featureName: feature.name,
      featureDisplayName: 'Storage',
      featureType: 'number',
      limit: 100,
      unit: 'GB',
      reset: 'month',
      version: 1,
    });
    expect(response.headers.etag).toMatch(/\.1"$/);
    expect(await auditOf(landlord, response.body.data.id)).toEqual([
      expect.objectContaining({ action: 'plan_feature.create', after: response.body.data }),
    ]);
  });

  it('takes the feature by id, an explicit unit, and null (unlimited) as the limit', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    const attached = await created(landlord.admin, included(plan.name), { feature: feature.id, limit: null, unit: 'TB' });
    expect(attached).toMatchObject({ featureId: feature.id, limit: null, unit: 'TB', reset: 'never' });
  });

  it('refuses a limit on a boolean feature, naming limit', async () => {
    const plan = await newPlan();
    const flag = await newFeature({ type: 'boolean', unit: null });
    const refused = await landlord.admin.post(included(plan.name), { feature: flag.name, limit: 3 });
    expect(refused.status).toBe(400);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'limit' });
    expect((await landlord.admin.post(included(plan.name), { feature: flag.name })).body.data.limit).toBeNull();
  });

  it('refuses a feature included already (409 plan_feature.exists), an unknown feature (404) and bad fields (400)', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    await created(landlord.admin, included(plan.name), { feature: feature.name });
    const twice = await landlord.admin.post(included(plan.name), { feature: feature.name, limit: 1 });
    expect(twice.status).toBe(409);
    expect(twice.body.metadata.errors[0]).toMatchObject({ code: 'plan_feature.exists', parameter: 'feature' });
    const unknown = await landlord.admin.post(included(plan.name), { feature: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'feature.not_found', parameter: 'feature' });
    const foreignFeature = await created(landlord.admin, `${base(other.name)}/features`, {
      name: uniqueName('feature'),
      displayName: 'x',
      type: 'number',
    });
    expect((await landlord.admin.post(included(plan.name), { feature: foreignFeature.id })).status).toBe(404);
    const bad = await landlord.admin.post(included(plan.name), { limit: -1, reset: 'hourly', extra: true });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['feature', 'limit', 'reset', 'extra']));
    expect((await landlord.admin.post(included('nope'), { feature: feature.name })).body.metadata.errors[0].code).toBe('plan.not_found');
  });
});

describe('GET /v1/products/{product}/plans/{plan}/features', () => {
  it('lists what the plan includes with the features’ names, in pages', async () => {
    const plan = await newPlan();
    const first = await newFeature({ displayName: 'First' });
    const second = await newFeature({ displayName: 'Second', type: 'boolean' });
    await created(landlord.admin, included(plan.name), { feature: first.name, limit: 1 });
    await created(landlord.admin, included(plan.name), { feature: second.name });
    const page = await landlord.admin.get(`${included(plan.name)}?limit=1`);
    expect(page.body.data).toEqual([expect.objectContaining({ featureName: first.name, featureDisplayName: 'First', limit: 1 })]);
    const next = await landlord.admin.get(`${included(plan.name)}?limit=1&cursor=${page.body.metadata.pagination.nextCursor}`);
    expect(next.body.data).toEqual([
      expect.objectContaining({ featureName: second.name, featureDisplayName: 'Second', featureType: 'boolean' }),
    ]);
    expect(next.body.metadata.pagination.nextCursor).toBeNull();
  });

  it('gets one by feature name or id, and answers 404 plan_feature.not_found for a feature the plan does not include', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    const attached = await created(landlord.admin, included(plan.name), { feature: feature.name, limit: 7 });
    const byName = await landlord.admin.get(`${included(plan.name)}/${feature.name}`);
    expect(byName.body.data).toEqual(attached);
    expect(byName.headers.etag).toMatch(/\.1"$/);
    expect((await landlord.admin.get(`${included(plan.id)}/${feature.id}`)).body.data.id).toBe(attached.id);
    const absent = await landlord.admin.get(`${included(plan.name)}/${(await newFeature()).name}`);
    expect(absent.status).toBe(404);
    expect(absent.body.metadata.errors[0]).toMatchObject({ code: 'plan_feature.not_found', parameter: 'feature' });
  });
});

describe('PATCH /v1/products/{product}/plans/{plan}/features/{feature}', () => {
  it('changes the limit, unit and reset period, and honours If-Match', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    await created(landlord.admin, included(plan.name), { feature: feature.name, limit: 10 });
    const etag = (await landlord.admin.get(`${included(plan.name)}/${feature.name}`)).headers.etag as string;
    const patched = await landlord.admin.patch(
      `${included(plan.name)}/${feature.name}`,
      { limit: null, unit: null, reset: 'year' },
      { 'if-match': etag },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ limit: null, unit: null, reset: 'year', version: 2, featureName: feature.name });
    expect((await landlord.admin.patch(`${included(plan.name)}/${feature.name}`, { limit: 1 }, { 'if-match': etag })).status).toBe(412);
    const audit = await auditOf(landlord, patched.body.data.id);
    expect(audit.at(-1)).toMatchObject({ action: 'plan_feature.update', before: { limit: 10 }, after: { limit: null } });
  });

  it('refuses a limit on a boolean feature, an unknown field, and a feature not included (404)', async () => {
    const plan = await newPlan();
    const flag = await newFeature({ type: 'boolean' });
    await created(landlord.admin, included(plan.name), { feature: flag.name });
    expect(parametersOf(await landlord.admin.patch(`${included(plan.name)}/${flag.name}`, { limit: 2 }))).toEqual(['limit']);
    expect(parametersOf(await landlord.admin.patch(`${included(plan.name)}/${flag.name}`, { feature: 'x' }))).toEqual(['feature']);
    expect((await landlord.admin.patch(`${included(plan.name)}/${(await newFeature()).name}`, { limit: 2 })).status).toBe(404);
  });
});

describe('DELETE /v1/products/{product}/plans/{plan}/features/{feature}', () => {
  it('takes the feature out of the plan, keeps the feature, honours If-Match, and audits it', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    const attached = await created(landlord.admin, included(plan.name), { feature: feature.name });
    expect((await landlord.admin.delete(`${included(plan.name)}/${feature.name}`, { 'if-match': '"000000000000.5"' })).status).toBe(412);
    const deleted = await landlord.admin.delete(`${included(plan.name)}/${feature.name}`);
    expect(deleted.body.data).toEqual({ id: attached.id, deleted: true });
    expect((await landlord.admin.get(`${included(plan.name)}/${feature.name}`)).status).toBe(404);
    expect((await landlord.admin.get(`${base()}/features/${feature.name}`)).status).toBe(200);
    expect((await auditOf(landlord, attached.id)).at(-1)).toMatchObject({ action: 'plan_feature.delete' });
    expect((await landlord.admin.delete(`${included(plan.name)}/${feature.name}`)).status).toBe(404);
  });
});

describe('access to plan features', () => {
  it('refuses a call without a credential (401)', async () => {
    const plan = await newPlan();
    expect((await landlord.as(undefined).get(included(plan.name))).status).toBe(401);
  });

  it('lets the product’s product_admin attach and detach, and hides the product from another one (404)', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    const own = landlord.as(await productAdminKey(landlord, product.name));
    await created(own, included(plan.name), { feature: feature.name });
    expect((await own.delete(`${included(plan.name)}/${feature.name}`)).status).toBe(200);
    const foreign = landlord.as(await productAdminKey(landlord, other.name));
    expect((await foreign.get(included(plan.name))).status).toBe(404);
    expect((await foreign.post(included(plan.name), { feature: feature.name })).status).toBe(404);
  });

  it('lets a client include features and change limits in its product’s plans, but not take them out', async () => {
    const plan = await newPlan();
    const feature = await newFeature();
    const client = landlord.as(await clientToken(landlord, product.id));
    await created(client, included(plan.name), { feature: feature.name, limit: 1 });
    expect((await client.patch(`${included(plan.name)}/${feature.name}`, { limit: 2 })).body.data.limit).toBe(2);
    expect((await client.delete(`${included(plan.name)}/${feature.name}`)).status).toBe(403);
    expect((await landlord.as(await clientToken(landlord, other.id)).get(included(plan.name))).status).toBe(404);
  });
});
