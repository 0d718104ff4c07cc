import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { isWellFormed, matchesHash } from '../access/credential-format.ts';
import { type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

describe('POST /v1/resellers', () => {
  it('creates a reseller for a product, shows the password once and keeps only its hash', async () => {
    const created = await landlord.admin.post('/v1/resellers', { code: 'north-sales', name: 'North Sales', product: product.name });
    expect(created.status).toBe(201);
    const reseller = created.body.data;
    expect(reseller).toMatchObject({
      code: 'north-sales',
      prefix: 'northsales',
      product: { id: product.id, name: product.name },
      revokedAt: null,
    });
    expect(reseller.username).toMatch(/^rs_[0-9a-f]{20}$/);
    expect(isWellFormed(reseller.password, 'llrs')).toBe(true);

    const read = await landlord.admin.get('/v1/resellers/north-sales');
    expect(read.body.data.id).toBe(reseller.id);
    expect(read.text).not.toContain(reseller.password);
    const list = await landlord.admin.get('/v1/resellers');
    expect(list.body.data.map((item: { code: string }) => item.code)).toContain('north-sales');
    expect(list.text).not.toContain('llrs_');
    const stored = await landlord.node.services.db
      .selectFrom('resellers')
      .select('password_hash')
      .where('id', '=', reseller.id)
      .executeTakeFirstOrThrow();
    expect(matchesHash(reseller.password, stored.password_hash)).toBe(true);
  });

  it('takes a prefix, and refuses a taken code (409), a bad code and an unknown product', async () => {
    const prefixed = await landlord.admin.post('/v1/resellers', { code: 'pfx', name: 'Prefixed', product: product.name, prefix: 'zz' });
    expect(prefixed.body.data.prefix).toBe('zz');
    const taken = await landlord.admin.post('/v1/resellers', { code: 'pfx', name: 'Again', product: product.name });
    expect(taken.status).toBe(409);
    expect(taken.body.metadata.errors[0]).toMatchObject({ code: 'reseller.code_taken', parameter: 'code' });
    const bad = await landlord.admin.post('/v1/resellers', { code: 'Bad Code', name: 'x', product: product.name });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('code');
    const unknown = await landlord.admin.post('/v1/resellers', { code: 'orphan', name: 'x', product: 'no-such-product' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.metadata.errors[0].code).toBe('product.not_found');
  });

  it("confines a product admin to its product's resellers and refuses product clients (403)", async () => {
    await landlord.admin.post('/v1/resellers', { code: 'theirs', name: 'Theirs', product: other.name });
    const ops = landlord.as(await productAdminKey(landlord, product.name));
    expect((await ops.post('/v1/resellers', { code: 'mine', name: 'Mine', product: product.name })).status).toBe(201);
    expect((await ops.post('/v1/resellers', { code: 'sneaky', name: 'x', product: other.name })).status).toBe(404);
    expect((await ops.get('/v1/resellers/theirs')).status).toBe(404);
    expect((await ops.delete('/v1/resellers/theirs')).status).toBe(404);
    expect((await ops.get('/v1/resellers')).body.data.map((item: { code: string }) => item.code)).not.toContain('theirs');

    const fromClient = await product.client.post('/v1/resellers', { code: 'client-made', name: 'x', product: product.name });
    expect(fromClient.status).toBe(403);
    expect((await product.client.get('/v1/resellers/mine')).status).toBe(403);
  });

  it('revokes a reseller once; revoking again changes nothing', async () => {
    await landlord.admin.post('/v1/resellers', { code: 'leaving', name: 'Leaving', product: product.name });
    const revoked = await landlord.admin.delete('/v1/resellers/leaving');
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.revokedAt).not.toBeNull();
    expect((await landlord.admin.delete('/v1/resellers/leaving')).body.data.revokedAt).toBe(revoked.body.data.revokedAt);
  });
});

describe('GET /reseller/openapi.json', () => {
  it('documents the reseller API on its own, outside the native document', async () => {
    const document = (await apiClient(landlord.url).get('/reseller/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/reseller/tenant', '/reseller/tenant/{codeName}/user', '/reseller/tenant/{codeName}/login/{login}']),
    );
    expect(document.paths['/reseller/tenant'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['customerReference', 'fullName']),
    );
    const native = (await apiClient(landlord.url).get('/openapi.json')).body;
    expect(Object.keys(native.paths).some((path) => path.startsWith('/reseller'))).toBe(false);
    expect(Object.keys(native.paths)).toEqual(expect.arrayContaining(['/v1/resellers', '/v1/connections/verify', '/login/{token}']));
  });
});
