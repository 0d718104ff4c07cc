import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey, uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { auditOf, clientToken, created, insertTenant, parametersOf } from './catalogue.test-support.ts';
import { findPublishedSpecificationRules } from './specifications.repo.ts';

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

const specs = (productRef = product.name) => `/v1/products/${productRef}/specifications`;
// Specification names start with a letter and may be upper case.
const specName = () => `Spec${uniqueName('x').replaceAll('-', '_')}`;
const newSpec = (body: Record<string, unknown> = {}) =>
  created(landlord.admin, specs(), { name: specName(), displayName: 'A field', type: 'string', ...body });

describe('POST /v1/products/{product}/specifications', () => {
  it('creates a draft specification with defaults, answers with its ETag, and audits it', async () => {
    const response = await landlord.admin.post(specs(), {
      name: 'vatNumber',
      displayName: 'VAT number',
      type: 'string',
      pattern: '^[A-Z]{2}[0-9]{8,12}$',
    });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      productId: product.id,
      name: 'vatNumber',
      type: 'string',
      required: false,
      pattern: '^[A-Z]{2}[0-9]{8,12}$',
      userEditable: true,
      published: false,
      version: 1,
    });
    expect(response.headers.etag).toMatch(/\.1"$/);
    expect((await landlord.admin.get(`${specs()}/vatNumber`)).body.data.id).toBe(response.body.data.id);
    expect((await landlord.admin.get(`${specs()}/vatnumber`)).status).toBe(404);
    expect(await auditOf(landlord, response.body.data.id)).toEqual([
      expect.objectContaining({ action: 'specification.create', after: response.body.data }),
    ]);
  });

  it('refuses an invalid pattern (400 specification.invalid_pattern) naming pattern', async () => {
    for (const pattern of ['(', '[z-a]', 'x'.repeat(501)]) {
      const response = await landlord.admin.post(specs(), { name: specName(), displayName: 'x', type: 'string', pattern });
      expect(response.status).toBe(400);
      expect(response.body.metadata.errors[0]).toMatchObject({ code: 'specification.invalid_pattern', parameter: 'pattern' });
    }
  });

  it('refuses a pattern with nested quantifiers (400 specification.unsafe_pattern)', async () => {
    for (const pattern of ['(a+)+$', '^(\\w*)*@', '(x|xx)+y']) {
      const response = await landlord.admin.post(specs(), { name: specName(), displayName: 'x', type: 'string', pattern });
      if (response.status === 201) throw new Error(`accepted the unsafe pattern ${pattern}`);
      expect(response.status).toBe(400);
      expect(response.body.metadata.errors[0]).toMatchObject({ code: 'specification.unsafe_pattern', parameter: 'pattern' });
    }
  });

  it('refuses a taken name (409 specification.name_taken) and names every bad field', async () => {
    const spec = await newSpec();
    const clash = await landlord.admin.post(specs(), { name: spec.name, displayName: 'x', type: 'email' });
    expect(clash.status).toBe(409);
    expect(clash.body.metadata.errors[0]).toMatchObject({ code: 'specification.name_taken', parameter: 'name' });
    const bad = await landlord.admin.post(specs(), { name: '1st', displayName: 'x', type: 'date', required: 'yes', editable: true });
    expect(bad.status).toBe(400);
    expect(parametersOf(bad)).toEqual(expect.arrayContaining(['name', 'type', 'required', 'editable']));
  });
});

describe('GET /v1/products/{product}/specifications', () => {
  it('lists in pages, optionally only the published ones', async () => {
    const mine = await createProduct(landlord.admin);
    for (const [index, name] of ['a', 'b', 'c'].entries())
      await created(landlord.admin, specs(mine.name), { name, displayName: name, type: 'number', published: index !== 0 });
    const first = await landlord.admin.get(`${specs(mine.name)}?limit=2`);
    const second = await landlord.admin.get(`${specs(mine.name)}?limit=2&cursor=${first.body.metadata.pagination.nextCursor}`);
    expect([...first.body.data, ...second.body.data].map((spec: { name: string }) => spec.name)).toEqual(['a', 'b', 'c']);
    const published = await landlord.admin.get(`${specs(mine.name)}?published=true`);
    expect(published.body.data.map((spec: { name: string }) => spec.name)).toEqual(['b', 'c']);
  });

  it('answers 404 specification.not_found for an unknown specification', async () => {
    const response = await landlord.admin.get(`${specs()}/nope`);
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'specification.not_found', parameter: 'specification' });
  });
});

describe('PATCH /v1/products/{product}/specifications/{specification}', () => {
  it('changes a specification, clears its pattern with null, and honours If-Match', async () => {
    const spec = await newSpec({ pattern: '^a' });
    const etag = (await landlord.admin.get(`${specs()}/${spec.name}`)).headers.etag as string;
    const patched = await landlord.admin.patch(
      `${specs()}/${spec.name}`,
      { pattern: null, required: true, userEditable: false, type: 'email' },
      { 'if-match': etag },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ pattern: null, required: true, userEditable: false, type: 'email', version: 2 });
    expect((await landlord.admin.patch(`${specs()}/${spec.name}`, { required: false }, { 'if-match': etag })).status).toBe(412);
    expect((await auditOf(landlord, spec.id)).at(-1)).toMatchObject({
      action: 'specification.update',
      before: { pattern: '^a' },
      after: { pattern: null },
    });
  });

  it('refuses an invalid or unsafe pattern, a taken name, and a bad field', async () => {
    const spec = await newSpec();
    const unsafe = await landlord.admin.patch(`${specs()}/${spec.name}`, { pattern: '(a+)+$' });
    expect(unsafe.status).toBe(400);
    expect(unsafe.body.metadata.errors[0]).toMatchObject({ code: 'specification.unsafe_pattern', parameter: 'pattern' });
    const invalid = await landlord.admin.patch(`${specs()}/${spec.name}`, { pattern: '(?<' });
    expect(invalid.body.metadata.errors[0]).toMatchObject({ code: 'specification.invalid_pattern', parameter: 'pattern' });
    expect((await landlord.admin.get(`${specs()}/${spec.name}`)).body.data.pattern).toBeNull();
    const taken = await newSpec();
    expect((await landlord.admin.patch(`${specs()}/${spec.name}`, { name: taken.name })).body.metadata.errors[0].code).toBe(
      'specification.name_taken',
    );
    expect(parametersOf(await landlord.admin.patch(`${specs()}/${spec.name}`, { published: true }))).toEqual(['published']);
  });

  it('renames a specification no tenant has a value for, and refuses (409 specification.in_use) to rename one that has', async () => {
    const free = await newSpec();
    expect((await landlord.admin.patch(`${specs()}/${free.name}`, { name: `${free.name}X` })).body.data.name).toBe(`${free.name}X`);
    const used = await newSpec();
    await insertTenant(landlord, product.id, { specifications: { [used.name]: 'value' } });
    const refused = await landlord.admin.patch(`${specs()}/${used.name}`, { name: `${used.name}X` });
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'specification.in_use', parameter: 'name' });
    expect((await landlord.admin.patch(`${specs()}/${used.name}`, { displayName: 'Still fine' })).status).toBe(200);
  });
});

describe('POST …/specifications/{specification}/publish and /unpublish', () => {
  it('publishes and unpublishes, which decides what findPublishedSpecificationRules returns', async () => {
    const mine = await createProduct(landlord.admin);
    const spec = await created(landlord.admin, specs(mine.name), {
      name: 'seats',
      displayName: 'Seats',
      type: 'number',
      required: true,
      pattern: '^[0-9]+$',
    });
    const { db } = landlord.node.services;
    expect(await findPublishedSpecificationRules(db, mine.id)).toEqual([]);
    const published = await landlord.admin.post(`${specs(mine.name)}/seats/publish`);
    expect(published.body.data).toMatchObject({ published: true, version: 2 });
    expect(await findPublishedSpecificationRules(db, mine.id)).toEqual([
      { name: 'seats', type: 'number', required: true, pattern: '^[0-9]+$' },
    ]);
    expect(await findPublishedSpecificationRules(db, product.id)).not.toContainEqual(expect.objectContaining({ name: 'seats' }));
    expect((await landlord.admin.post(`${specs(mine.name)}/seats/unpublish`, undefined, { 'if-match': '"000000000000.2"' })).status).toBe(
      412,
    );
    await landlord.admin.post(`${specs(mine.name)}/${spec.id}/unpublish`);
    expect(await findPublishedSpecificationRules(db, mine.id)).toEqual([]);
    expect((await auditOf(landlord, spec.id)).map((record) => record.action)).toEqual([
      'specification.create',
      'specification.publish',
      'specification.unpublish',
    ]);
  });
});

describe('DELETE /v1/products/{product}/specifications/{specification}', () => {
  it('deletes one no tenant has a value for, and refuses (409 specification.in_use) one a tenant has', async () => {
    const free = await newSpec();
    await insertTenant(landlord, other.id, { specifications: { [free.name]: 'another product’s tenant' } });
    expect((await landlord.admin.delete(`${specs()}/${free.name}`)).body.data).toEqual({ id: free.id, deleted: true });
    expect((await auditOf(landlord, free.id)).at(-1)).toMatchObject({ action: 'specification.delete' });
    const used = await newSpec();
    await insertTenant(landlord, product.id, { specifications: { [used.name]: 42 } });
    const refused = await landlord.admin.delete(`${specs()}/${used.name}`);
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0]).toMatchObject({ code: 'specification.in_use', parameter: 'specification' });
  });

  it('honours If-Match and answers 404 for an unknown specification', async () => {
    const spec = await newSpec();
    expect((await landlord.admin.delete(`${specs()}/${spec.name}`, { 'if-match': '"000000000000.8"' })).status).toBe(412);
    expect((await landlord.admin.delete(`${specs()}/nope`)).status).toBe(404);
  });
});

describe('access to specifications', () => {
  it('refuses a call without a credential (401)', async () => {
    expect((await landlord.as(undefined).get(specs())).status).toBe(401);
  });

  it('lets the product’s product_admin do everything, and hides the product from another one (404)', async () => {
    const own = landlord.as(await productAdminKey(landlord, product.name));
    const spec = await created(own, specs(), { name: specName(), displayName: 'x', type: 'url' });
    expect((await own.post(`${specs()}/${spec.name}/publish`)).status).toBe(200);
    expect((await own.delete(`${specs()}/${spec.name}`)).status).toBe(200);
    const foreign = landlord.as(await productAdminKey(landlord, other.name));
    const target = await newSpec();
    expect((await foreign.get(`${specs()}/${target.name}`)).status).toBe(404);
    expect((await foreign.post(`${specs()}/${target.name}/publish`)).status).toBe(404);
  });

  it('lets a client create, change and publish specifications of its product, but not delete them', async () => {
    const client = landlord.as(await clientToken(landlord, product.id));
    const spec = await created(client, specs(), { name: specName(), displayName: 'x', type: 'boolean' });
    expect((await client.patch(`${specs()}/${spec.name}`, { required: true })).body.data.required).toBe(true);
    expect((await client.post(`${specs()}/${spec.name}/publish`)).body.data.published).toBe(true);
    expect((await client.delete(`${specs()}/${spec.name}`)).status).toBe(403);
    expect((await landlord.as(await clientToken(landlord, other.id)).get(specs())).status).toBe(404);
  });
});
