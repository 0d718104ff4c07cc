import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { auditOf, clientToken, created, insertTenant, parametersOf } from './catalogue.test-support.ts';

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

const plans = (productRef = product.name) => `/v1/products/${productRef}/plans`;
const newPlan = (body: Record<string, unknown> = {}) =>
  created(landlord.admin, plans(), { name: uniqueName('plan'), displayName: 'A plan', ...body });

describe('POST /v1/products/{product}/plans', () => {
  it('creates a draft plan, answers with its ETag, and audits it', async () => {
    const response = await landlord.admin.post(plans(), {
      name: 'starter',
      displayName: 'Starter',
      description: 'For one',
      displayOrder: 2,
    });
    expect(response.status).toBe(201);
    expect(response.body.metadata).toEqual({ success: true, errors: [] });
    expect(response.body.data).toMatchObject({
      productId: product.id,
      name: 'starter',
      displayName: 'Starter',
      description: 'For one',
      displayOrder: 2,
      published: false,
      version: 1,
    });
    expect(response.headers.etag).toMatch(/^".+\.1"$/);
    const byName = await landlord.admin.get(`${plans()}/starter`);
    expect(byName.status).toBe(200);
    expect(byName.headers.etag).toBe(response.headers.etag);
    const byId = await landlord.admin.get(`${plans(product.id)}/${response.body.data.id}`);
    expect(byId.body.data.name).toBe('starter');
    const audit = await auditOf(landlord, response.body.data.id);
    expect(audit).toEqual([expect.objectContaining({ action: 'plan.create', product_id: product.id, after: response.body.data })]);
  });

  it('refuses a name taken in the product (409 plan.name_taken) but not one taken in another product', async () => {
    await newPlan({ name: 'twice' });
    const again = await landlord.admin.post(plans(), { name: 'twice', displayName: 'Again' });
    expect(again.status).toBe(409);
    expect(again.body.metadata.errors[0]).toMatchObject({ code: 'plan.name_taken', parameter: 'name' });
    expect((await landlord.admin.post(plans(other.name), { name: 'twice', displayName: 'Elsewhere' })).status).toBe(201);
  });

  it('names every bad field: bad name, missing displayName, wrong type, unknown field', async () => {
    const bad = await landlord.admin.post(plans(), { name: 'Bad Name', displayOrder: 'first', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['name', 'displayName', 'displayOrder', 'colour']));
    expect(bad.body.metadata.errors.find((error: { parameter: string }) => error.parameter === 'colour').code).toBe(
      'request.unknown_field',
    );
  });

  it('refuses a name shaped like a UUID, since paths take ids and names alike', async () => {
    const response = await landlord.admin.post(plans(), { name: '0190a6b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b', displayName: 'x' });
    expect(response.status).toBe(400);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'name' });
  });

  it('answers 404 product.not_found for an unknown product', async () => {
    const response = await landlord.admin.post(plans('nope'), { name: 'x', displayName: 'x' });
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'product.not_found', parameter: 'product' });
  });
});

describe('GET /v1/products/{product}/plans', () => {
  it('pages with a cursor and filters on published', async () => {
    const mine = await createProduct(landlord.admin);
    const names = ['p-a', 'p-b', 'p-c'];
    for (const name of names) await created(landlord.admin, plans(mine.name), { name, displayName: name, published: name !== 'p-b' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await landlord.admin.get(
        `${plans(mine.name)}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((plan: { name: string }) => plan.name));
      cursor = page.body.metadata.pagination.nextCursor;
    } while (cursor);
    expect(seen).toEqual(names);
    const published = await landlord.admin.get(`${plans(mine.name)}?published=true`);
    expect(published.body.data.map((plan: { name: string }) => plan.name)).toEqual(['p-a', 'p-c']);
    const drafts = await landlord.admin.get(`${plans(mine.name)}?published=false`);
    expect(drafts.body.data.map((plan: { name: string }) => plan.name)).toEqual(['p-b']);
  });

  it('refuses a garbled cursor, a bad filter and an unknown query parameter', async () => {
    expect((await landlord.admin.get(`${plans()}?cursor=zzz`)).body.metadata.errors[0].code).toBe('request.invalid_cursor');
    const filter = await landlord.admin.get(`${plans()}?published=maybe`);
    expect(filter.status).toBe(400);
    expect(filter.body.metadata.errors[0].parameter).toBe('querystring.published');
    expect((await landlord.admin.get(`${plans()}?colour=red`)).status).toBe(400);
  });
});

describe('GET /v1/products/{product}/plans/{plan}', () => {
  it('refuses a reference PostgreSQL cannot compare (a NUL) or one over 200 characters, naming the parameter', async () => {
    const nul = await landlord.admin.get(`${plans()}/a%00b`);
    expect(nul.status).toBe(400);
    expect(nul.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'params.plan' });
    expect((await landlord.admin.get(`/v1/products/${product.name}%00/plans`)).body.metadata.errors[0].parameter).toBe('params.product');
    expect((await landlord.admin.get(`${plans()}/${'a'.repeat(201)}`)).body.metadata.errors[0].parameter).toBe('params.plan');
  });

  it('answers 404 plan.not_found for an unknown plan and for a plan of another product', async () => {
    const unknown = await landlord.admin.get(`${plans()}/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'plan.not_found', parameter: 'plan', sysCode: '1005' });
    const foreign = await created(landlord.admin, plans(other.name), { name: uniqueName('plan'), displayName: 'x' });
    expect((await landlord.admin.get(`${plans()}/${foreign.id}`)).status).toBe(404);
  });
});

describe('PATCH /v1/products/{product}/plans/{plan}', () => {
  it('changes the plan, bumps its version, audits before and after, and honours If-Match', async () => {
    const plan = await newPlan();
    const first = await landlord.admin.get(`${plans()}/${plan.name}`);
    const patched = await landlord.admin.patch(
      `${plans()}/${plan.name}`,
      { name: `${plan.name}-v2`, displayName: 'Renamed', displayOrder: -3 },
      { 'if-match': first.headers.etag as string },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ id: plan.id, name: `${plan.name}-v2`, displayName: 'Renamed', displayOrder: -3, version: 2 });
    expect(patched.headers.etag).toMatch(/\.2"$/);
    const stale = await landlord.admin.patch(
      `${plans()}/${plan.id}`,
      { displayName: 'Stale' },
      { 'if-match': first.headers.etag as string },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.metadata.errors[0].code).toBe('request.precondition_failed');
    expect((await landlord.admin.get(`${plans()}/${plan.id}`)).body.data.displayName).toBe('Renamed');
    const audit = await auditOf(landlord, plan.id);
    expect(audit[1]).toMatchObject({
      action: 'plan.update',
      before: { name: plan.name, version: 1 },
      after: { name: `${plan.name}-v2`, version: 2 },
    });
  });

  it('refuses a rename onto a taken name (409), a bad field (400) and an unknown plan (404)', async () => {
    const a = await newPlan();
    const b = await newPlan();
    const clash = await landlord.admin.patch(`${plans()}/${b.name}`, { name: a.name });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0]).toMatchObject({ code: 'plan.name_taken', parameter: 'name' });
    const bad = await landlord.admin.patch(`${plans()}/${b.name}`, { displayName: '', published: true });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['displayName', 'published']));
    expect((await landlord.admin.patch(`${plans()}/nope`, { displayName: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/products/{product}/plans/{plan}/publish and /unpublish', () => {
  it('publishes and unpublishes, leaving a plan already in that state unchanged', async () => {
    const plan = await newPlan();
    const published = await landlord.admin.post(`${plans()}/${plan.name}/publish`);
    expect(published.status).toBe(200);
    expect(published.body.data).toMatchObject({ published: true, version: 2 });
    const again = await landlord.admin.post(`${plans()}/${plan.name}/publish`);
    expect(again.body.data).toMatchObject({ published: true, version: 2 });
    const unpublished = await landlord.admin.post(`${plans()}/${plan.name}/unpublish`, undefined, {
      'if-match': published.headers.etag as string,
    });
    expect(unpublished.body.data).toMatchObject({ published: false, version: 3 });
    const actions = (await auditOf(landlord, plan.id)).map((record) => record.action);
    expect(actions).toEqual(['plan.create', 'plan.publish', 'plan.unpublish']);
  });

  it('refuses a stale If-Match (412) and an unknown plan (404)', async () => {
    const plan = await newPlan();
    const stale = await landlord.admin.post(`${plans()}/${plan.name}/publish`, undefined, { 'if-match': '"000000000000.7"' });
    expect(stale.status).toBe(412);
    expect((await landlord.admin.get(`${plans()}/${plan.name}`)).body.data.published).toBe(false);
    expect((await landlord.admin.post(`${plans()}/nope/unpublish`)).status).toBe(404);
  });
});

describe('DELETE /v1/products/{product}/plans/{plan}', () => {
  it('deletes an unused plan with its prices and feature attachments, and audits each', async () => {
    const plan = await newPlan();
    const price = await created(landlord.admin, `${plans()}/${plan.name}/prices`, {
      name: uniqueName('price'),
      cycle: 'month',
      amount: 100,
      currency: 'EUR',
    });
    const feature = await created(landlord.admin, `/v1/products/${product.name}/features`, {
      name: uniqueName('feature'),
      displayName: 'F',
      type: 'number',
    });
    const attachment = await created(landlord.admin, `${plans()}/${plan.name}/features`, { feature: feature.name, limit: 5 });
    const deleted = await landlord.admin.delete(`${plans()}/${plan.name}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id: plan.id, deleted: true });
    expect((await landlord.admin.get(`${plans()}/${plan.name}`)).status).toBe(404);
    expect((await landlord.admin.get(`/v1/products/${product.name}/features/${feature.name}`)).status).toBe(200);
    expect((await auditOf(landlord, plan.id)).at(-1)).toMatchObject({ action: 'plan.delete', before: { name: plan.name } });
    expect((await auditOf(landlord, price.id)).at(-1)).toMatchObject({ action: 'price.delete', before: { name: price.name } });
    expect((await auditOf(landlord, attachment.id)).at(-1)).toMatchObject({ action: 'plan_feature.delete' });
  });

  it('refuses (409 plan.in_use) while a tenant is on one of its prices, and honours If-Match', async () => {
    const plan = await newPlan();
    const price = await created(landlord.admin, `${plans()}/${plan.name}/prices`, {
      name: uniqueName('price'),
      cycle: 'year',
      amount: 0,
      currency: 'USD',
    });
    await insertTenant(landlord, product.id, { planPriceId: price.id });
    const refused = await landlord.admin.delete(`${plans()}/${plan.name}`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'plan.in_use', parameter: 'plan' });
    expect((await landlord.admin.get(`${plans()}/${plan.name}/prices/${price.name}`)).status).toBe(200);

    const unused = await newPlan();
    const stale = await landlord.admin.delete(`${plans()}/${unused.name}`, { 'if-match': '"000000000000.9"' });
    expect(stale.status).toBe(412);
    expect((await landlord.admin.delete(`${plans()}/nope`)).status).toBe(404);
  });
});

describe('access to plans', () => {
  it('refuses a call without a credential (401)', async () => {
    const none = landlord.as(undefined);
    expect((await none.get(plans())).status).toBe(401);
    const response = await none.post(plans(), { name: 'nokey', displayName: 'x' });
    expect(response.status).toBe(401);
    expect(response.body.metadata.errors[0].code).toBe('auth.missing_credential');
  });

  it('lets the product’s own product_admin read, write and delete', async () => {
    const admin = landlord.as(await productAdminKey(landlord, product.name));
    const plan = await created(admin, plans(), { name: uniqueName('plan'), displayName: 'By admin' });
    expect((await admin.get(plans())).status).toBe(200);
    expect((await admin.patch(`${plans()}/${plan.name}`, { displayName: 'Changed' })).status).toBe(200);
    expect((await admin.post(`${plans()}/${plan.name}/publish`)).status).toBe(200);
    expect((await admin.delete(`${plans()}/${plan.name}`)).status).toBe(200);
  });

  it('hides the catalogue of another product from a scoped operator key (404)', async () => {
    const admin = landlord.as(await productAdminKey(landlord, other.name));
    const plan = await newPlan();
    for (const response of [
      await admin.get(plans()),
      await admin.post(plans(), { name: uniqueName('plan'), displayName: 'x' }),
      await admin.get(`${plans()}/${plan.name}`),
      await admin.patch(`${plans()}/${plan.name}`, { displayName: 'x' }),
      await admin.post(`${plans()}/${plan.name}/publish`),
      await admin.delete(`${plans()}/${plan.name}`),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.metadata.errors[0].code).toBe('product.not_found');
    }
  });

  it('lets a client of the product read, create, change and publish plans, but not delete them (403)', async () => {
    const client = landlord.as(await clientToken(landlord, product.id));
    const plan = await created(client, plans(), { name: uniqueName('plan'), displayName: 'By client' });
    expect((await client.get(`${plans()}/${plan.name}`)).status).toBe(200);
    expect((await client.patch(`${plans()}/${plan.name}`, { description: 'Changed' })).status).toBe(200);
    expect((await client.post(`${plans()}/${plan.name}/publish`)).body.data.published).toBe(true);
    const denied = await client.delete(`${plans()}/${plan.name}`);
    expect(denied.status).toBe(403);
    expect(denied.body.metadata.errors[0].code).toBe('auth.forbidden');
    expect((await auditOf(landlord, plan.id))[0]).toMatchObject({ action: 'plan.create', actor_type: 'client' });
  });

  it('hides another product’s plans from a client (404)', async () => {
    const client = landlord.as(await clientToken(landlord, other.id));
    const plan = await newPlan();
    expect((await client.get(`${plans()}/${plan.name}`)).status).toBe(404);
    expect((await client.post(plans(), { name: uniqueName('plan'), displayName: 'x' })).status).toBe(404);
  });
});
