import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';

let landlord: TestLandlord;
beforeAll(async () => {
  landlord = await startTestLandlord();
});
afterAll(async () => {
  await landlord?.close();
});

describe('POST /v1/products', () => {
  it('creates a product, shows the api key once, and masks it afterwards', async () => {
    const created = await landlord.admin.post('/v1/products', {
      name: 'acme',
      displayName: 'Acme',
      apiKey: 'secret-api-key-1234567890',
      webhooks: { creation: 'http://backend.example/api/integration/{name}/created' },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual({ success: true, errors: [] });
    expect(created.body.data).toMatchObject({ name: 'acme', displayName: 'Acme', apiKey: 'secret-api-key-1234567890' });
    expect(created.body.data.provisioning).toEqual({
      mode: 'callback',
      callbackTimeoutSeconds: 3600,
      autoSendCreation: true,
      requestTimeoutSeconds: 10,
      maxAttempts: 8,
    });
    expect(created.headers.etag).toMatch(/^".+\.1"$/);

    const read = await landlord.admin.get('/v1/products/acme');
    expect(read.status).toBe(200);
    expect(read.body.data.apiKey).toBe('••••7890');
    expect(read.text).not.toContain('secret-api-key');
    const byId = await landlord.admin.get(`/v1/products/${created.body.data.id}`);
    expect(byId.body.data.name).toBe('acme');
  });

  it('refuses a taken name with 409 product.name_taken', async () => {
    await landlord.admin.post('/v1/products', { name: 'taken', displayName: 'Taken' });
    const again = await landlord.admin.post('/v1/products', { name: 'taken', displayName: 'Again' });
    expect(again.status).toBe(409);
    expect(again.body.metadata.errors[0]).toMatchObject({ code: 'product.name_taken', parameter: 'name' });
  });

  it('names every bad field: unknown field, bad pattern, bad URL template', async () => {
    const bad = await landlord.admin.post('/v1/products', { name: 'Bad Name', displayName: 'x', colour: 'red' });
    expect(bad.status).toBe(400);
    const parameters = bad.body.metadata.errors.map((error: { parameter: string }) => error.parameter);
    expect(parameters).toEqual(expect.arrayContaining(['name', 'colour']));

    const template = await landlord.admin.post('/v1/products', {
      name: 'tpl',
      displayName: 'x',
      webhooks: { creation: 'http://x/{tenant}' },
    });
    expect(template.status).toBe(400);
    expect(template.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'webhooks.creation' });
    expect(template.body.metadata.errors[0].message).toContain('{tenant}');
  });

  it('refuses a name shaped like a UUID (paths take ids and names alike)', async () => {
    const response = await landlord.admin.post('/v1/products', { name: 'abcdef01-2345-6789-abcd-ef0123456789', displayName: 'x' });
    expect(response.status).toBe(400);
    expect(response.body.metadata.errors[0].parameter).toBe('name');
  });

  it('answers malformed JSON and a wrong type with 400 in the envelope', async () => {
    const malformed = await landlord.admin.raw('POST', '/v1/products', '{"name":', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.metadata.errors[0].code).toBe('request.malformed_json');
    const wrongType = await landlord.admin.post('/v1/products', { name: 42, displayName: 'x' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'name' });
  });

  it('answers a body over 1 MiB with 413', async () => {
    const huge = await landlord.admin.post('/v1/products', { name: 'huge', displayName: 'x'.repeat(1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.metadata.errors[0].code).toBe('request.body_too_large');
  });

  it('refuses a call without a credential or with a wrong one (401)', async () => {
    const none = await landlord.as(undefined).post('/v1/products', { name: 'nokey', displayName: 'x' });
    expect(none.status).toBe(401);
    expect(none.body.metadata.errors[0].code).toBe('auth.missing_credential');
    const wrong = await landlord.as('ll_not-a-real-key').get('/v1/products');
    expect(wrong.status).toBe(401);
    expect(wrong.body.metadata.errors[0].code).toBe('auth.invalid_credential');
  });
});

describe('PATCH /v1/products/{product}', () => {
  it('merges nested settings, clears a webhook with null, and honours If-Match', async () => {
    const created = await landlord.admin.post('/v1/products', {
      name: 'patchme',
      displayName: 'Patch me',
      webhooks: { creation: 'http://b.example/c', activation: 'http://b.example/a' },
    });
    const etag = created.headers.etag as string;
    const patched = await landlord.admin.patch(
      '/v1/products/patchme',
      { webhooks: { activation: null, deletion: 'http://b.example/d' }, healthCheck: { intervalSeconds: 30 } },
      { 'if-match': etag },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data.webhooks).toEqual({ creation: 'http://b.example/c', deletion: 'http://b.example/d' });
    expect(patched.body.data.healthCheck.intervalSeconds).toBe(30);
    expect(patched.body.data.healthCheck.failureThreshold).toBe(3);

    const stale = await landlord.admin.patch('/v1/products/patchme', { displayName: 'Stale' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.body.metadata.errors[0].code).toBe('request.precondition_failed');
    expect((await landlord.admin.get('/v1/products/patchme')).body.data.displayName).toBe('Patch me');
  });

  it('answers 404 for an unknown product', async () => {
    const response = await landlord.admin.patch('/v1/products/nope', { displayName: 'x' });
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'product.not_found', sysCode: '1005' });
  });
});

describe('DELETE /v1/products/{product}', () => {
  it('deletes a product without tenants', async () => {
    await landlord.admin.post('/v1/products', { name: 'gone', displayName: 'Gone' });
    const deleted = await landlord.admin.delete('/v1/products/gone');
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.deleted).toBe(true);
    expect((await landlord.admin.get('/v1/products/gone')).status).toBe(404);
  });
});

describe('GET /v1/products', () => {
  it('pages with a cursor in a stable order', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await landlord.admin.post('/v1/products', { name, displayName: name });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await landlord.admin.get(`/v1/products${query}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((product: { name: string }) => product.name));
      cursor = page.body.metadata.pagination.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
  });

  it('refuses a garbled cursor and an out-of-range limit', async () => {
    expect((await landlord.admin.get('/v1/products?cursor=zzz')).body.metadata.errors[0].code).toBe('request.invalid_cursor');
    const tooMany = await landlord.admin.get('/v1/products?limit=501');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.metadata.errors[0].parameter).toBe('querystring.limit');
  });
});

describe('GET /v1/products/{product}/warnings', () => {
  it('lists what a new product still lacks', async () => {
    await landlord.admin.post('/v1/products', { name: 'bare', displayName: 'Bare' });
    const warnings = await landlord.admin.get('/v1/products/bare/warnings');
    const codes = warnings.body.data.map((warning: { code: string }) => warning.code);
    expect(codes).toEqual(
      expect.arrayContaining(['webhooks.creation_missing', 'plan.none_published', 'client.none', 'health_check.url_missing']),
    );
  });
});

describe('who may see and change products', () => {
  it('confines a product_admin key to its product: others answer 404, creating and deleting need a super admin', async () => {
    await landlord.admin.post('/v1/products', { name: 'own-a', displayName: 'A' });
    await landlord.admin.post('/v1/products', { name: 'other-b', displayName: 'B' });
    const scoped = landlord.as(await productAdminKey(landlord, 'own-a'));

    const list = await scoped.get('/v1/products?limit=500');
    expect(list.body.data.map((product: { name: string }) => product.name)).toEqual(['own-a']);
    expect((await scoped.get('/v1/products/other-b')).status).toBe(404);
    expect((await scoped.patch('/v1/products/other-b', { displayName: 'x' })).status).toBe(404);
    expect((await scoped.get('/v1/products/other-b/warnings')).status).toBe(404);
    expect((await scoped.patch('/v1/products/own-a', { displayName: 'Mine' })).body.data.displayName).toBe('Mine');

    const create = await scoped.post('/v1/products', { name: 'sneaky', displayName: 'x' });
    expect(create.status).toBe(403);
    expect(create.body.metadata.errors[0].code).toBe('auth.forbidden');
    expect((await scoped.delete('/v1/products/own-a')).status).toBe(403);
    expect((await landlord.admin.get('/v1/products/own-a')).status).toBe(200);
  });

  it('lets a product client read its own product but not change it', async () => {
    await landlord.admin.post('/v1/products', { name: 'client-own', displayName: 'C' });
    const client = (await landlord.admin.post('/v1/products/client-own/clients', { name: 'backend' })).body.data;
    const token = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    const backend = landlord.as(token.body.access_token);
    expect((await backend.get('/v1/products/client-own')).status).toBe(200);
    expect((await backend.get('/v1/products/acme')).status).toBe(404);
    expect((await backend.patch('/v1/products/client-own', { displayName: 'x' })).status).toBe(403);
  });

  it('refuses to delete a product that still has tenants', async () => {
    await landlord.admin.post('/v1/products', { name: 'busy', displayName: 'Busy', provisioning: { autoSendCreation: false } });
    await landlord.admin.post('/v1/tenants', { product: 'busy', name: 'busy-tenant', displayName: 'x' });
    const refused = await landlord.admin.delete('/v1/products/busy');
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0].code).toBe('product.in_use');
  });
});
