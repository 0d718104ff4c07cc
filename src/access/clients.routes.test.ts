import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { createApiKey } from './api-keys.service.ts';
import { hashSecret, isWellFormed } from './credential-format.ts';
import { SYSTEM_ACTOR } from './principal.ts';

let landlord: TestLandlord;
let adminOfAlpha: string;
beforeAll(async () => {
  landlord = await startTestLandlord();
  for (const name of ['alpha', 'beta']) await landlord.admin.post('/v1/products', { name, displayName: name });
  adminOfAlpha = (
    await createApiKey(landlord.node.services.db, SYSTEM_ACTOR, { name: 'alpha ops', role: 'product_admin', product: 'alpha' })
  ).key;
});
afterAll(async () => {
  await landlord?.close();
});

async function newClient(product: string, body: Record<string, unknown> = { name: 'backend' }) {
  const created = await landlord.admin.post(`/v1/products/${product}/clients`, body);
  expect(created.status).toBe(201);
  return created.body.data as { id: string; clientId: string; clientSecret: string };
}

async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
  const response = await landlord
    .as(undefined)
    .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  expect(response.status).toBe(200);
  return response.body.access_token;
}

describe('POST /v1/products/{product}/clients', () => {
  it('creates a client, shows the secret once, and never again', async () => {
    const created = await landlord.admin.post('/v1/products/alpha/clients', { name: 'Billing backend' });
    expect(created.status).toBe(201);
    const client = created.body.data;
    expect(client).toMatchObject({ name: 'Billing backend', expiresAt: null, lastUsedAt: null, revokedAt: null });
    expect(client.clientId).toMatch(/^cl_[0-9a-f]{20}$/);
    expect(isWellFormed(client.clientSecret, 'llcs')).toBe(true);

    const read = await landlord.admin.get(`/v1/products/alpha/clients/${client.clientId}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ id: client.id, clientId: client.clientId, name: 'Billing backend' });
    expect(read.body.data.clientSecret).toBeUndefined();
    expect((await landlord.admin.get(`/v1/products/alpha/clients/${client.id}`)).body.data.clientId).toBe(client.clientId);

    const list = await landlord.admin.get('/v1/products/alpha/clients');
    expect(list.status).toBe(200);
    expect(list.body.data.map((item: { id: string }) => item.id)).toContain(client.id);
    expect(list.text).not.toContain(client.clientSecret);
    expect(list.text).not.toContain('llcs_');

    const stored = await landlord.node.services.db
      .selectFrom('clients')
      .select(['secret_hash'])
      .where('id', '=', client.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret_hash.equals(hashSecret(client.clientSecret))).toBe(true);
  });

  it('names the bad field: missing name, unknown field, malformed expiresAt', async () => {
    const missing = await landlord.admin.post('/v1/products/alpha/clients', {});
    expect(missing.status).toBe(400);
    expect(missing.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'name' });
    const unknown = await landlord.admin.post('/v1/products/alpha/clients', { name: 'x', scopes: ['all'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'request.unknown_field', parameter: 'scopes' });
    const badDate = await landlord.admin.post('/v1/products/alpha/clients', { name: 'x', expiresAt: 'next tuesday' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.metadata.errors[0].parameter).toBe('expiresAt');
  });

  it('replays a create with the same Idempotency-Key and keeps the stored answer encrypted', async () => {
    const headers = { 'idempotency-key': 'create-client-1' };
    const first = await landlord.admin.post('/v1/products/alpha/clients', { name: 'idem' }, headers);
    const second = await landlord.admin.post('/v1/products/alpha/clients', { name: 'idem' }, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.data.clientSecret).toBe(first.body.data.clientSecret);
    const { rows } = await sql<{
      count: number;
    }>`select count(*)::int as count from idempotency_keys where position(${'llcs_'}::bytea in response_body) > 0`.execute(
      landlord.node.services.db,
    );
    expect(rows[0]?.count).toBe(0);
    const reused = await landlord.admin.post('/v1/products/alpha/clients', { name: 'another' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.metadata.errors[0]).toMatchObject({ code: 'idempotency.key_reused', parameter: 'Idempotency-Key' });
    const malformed = await landlord.admin.post('/v1/products/alpha/clients', { name: 'x' }, { 'idempotency-key': 'ä'.repeat(300) });
    expect(malformed.status).toBe(400);
    expect(malformed.body.metadata.errors[0].code).toBe('idempotency.invalid_key');
    // A key on a read changes nothing.
    expect((await landlord.admin.get('/v1/products/alpha/clients', headers)).status).toBe(200);
  });

  it('answers 404 for an unknown product', async () => {
    const response = await landlord.admin.post('/v1/products/nope/clients', { name: 'x' });
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0].code).toBe('product.not_found');
  });
});

describe('who may manage clients', () => {
  it('lets a product admin manage its own product’s clients and hides other products (404)', async () => {
    const ops = landlord.as(adminOfAlpha);
    const created = await ops.post('/v1/products/alpha/clients', { name: 'by product admin' });
    expect(created.status).toBe(201);
    expect((await ops.get('/v1/products/alpha/clients')).status).toBe(200);
    const foreign = await ops.post('/v1/products/beta/clients', { name: 'x' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.metadata.errors[0].code).toBe('product.not_found');
    expect((await ops.get('/v1/products/beta/clients')).status).toBe(404);

    const betaClient = await newClient('beta');
    // Naming alpha in the path does not reach beta's client either.
    expect((await ops.get(`/v1/products/alpha/clients/${betaClient.clientId}`)).status).toBe(404);
    expect((await ops.delete(`/v1/products/alpha/clients/${betaClient.clientId}`)).status).toBe(404);
  });

  it('refuses a product client (403) and hides other products from it (404)', async () => {
    const client = await newClient('alpha');
    const asClient = landlord.as(await tokenFor(client.clientId, client.clientSecret));

    const own = await asClient.get('/v1/products/alpha');
    expect(own.status).toBe(200);
    expect(own.body.data.name).toBe('alpha');
    expect((await asClient.get('/v1/products/beta')).status).toBe(404);

    const create = await asClient.post('/v1/products/alpha/clients', { name: 'sneaky' });
    expect(create.status).toBe(403);
    expect(create.body.metadata.errors[0].code).toBe('auth.forbidden');
    expect((await asClient.get('/v1/products/alpha/clients')).status).toBe(403);
    expect((await asClient.delete(`/v1/products/alpha/clients/${client.clientId}`)).status).toBe(403);
    expect((await asClient.post(`/v1/products/alpha/clients/${client.clientId}/rotate-secret`)).status).toBe(403);

    const otherList = await asClient.get('/v1/products/beta/clients');
    expect(otherList.status).toBe(404);
    expect(otherList.body.metadata.errors[0].code).toBe('product.not_found');
  });

  it('refuses a call without a credential (401)', async () => {
    const response = await landlord.as(undefined).get('/v1/products/alpha/clients');
    expect(response.status).toBe(401);
    expect(response.body.metadata.errors[0].code).toBe('auth.missing_credential');
  });
});

describe('DELETE /v1/products/{product}/clients/{clientId}', () => {
  it('revokes a client: a token it already holds is refused at once, and so is its secret', async () => {
    const client = await newClient('alpha');
    const token = await tokenFor(client.clientId, client.clientSecret);
    const asClient = landlord.as(token);
    // Cached by the authenticator from here on.
    expect((await asClient.get('/v1/products/alpha')).status).toBe(200);

    const revoked = await landlord.admin.delete(`/v1/products/alpha/clients/${client.clientId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.revokedAt).not.toBeNull();

    const refused = await asClient.get('/v1/products/alpha');
    expect(refused.status).toBe(401);
    expect(refused.body.metadata.errors[0].code).toBe('auth.invalid_credential');
    const again = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_client');

    const twice = await landlord.admin.delete(`/v1/products/alpha/clients/${client.clientId}`);
    expect(twice.status).toBe(200);
    expect(twice.body.data.revokedAt).toBe(revoked.body.data.revokedAt);
    const listed = (await landlord.admin.get('/v1/products/alpha/clients?limit=500')).body.data.find(
      (item: { id: string }) => item.id === client.id,
    );
    expect(listed.revokedAt).toBe(revoked.body.data.revokedAt);
  });

  it('answers 404 for an unknown client', async () => {
    const response = await landlord.admin.delete('/v1/products/alpha/clients/cl_00000000000000000000');
    expect(response.status).toBe(404);
    expect(response.body.metadata.errors[0]).toMatchObject({ code: 'client.not_found', parameter: 'clientId' });
  });
});

describe('POST /v1/products/{product}/clients/{clientId}/rotate-secret', () => {
  it('issues a new secret; the old one stops working and the new one works', async () => {
    const client = await newClient('alpha');
    const rotated = await landlord.admin.post(`/v1/products/alpha/clients/${client.clientId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const secret = rotated.body.data.clientSecret;
    expect(isWellFormed(secret, 'llcs')).toBe(true);
    expect(secret).not.toBe(client.clientSecret);
    expect(rotated.body.data.clientId).toBe(client.clientId);

    const old = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    expect(old.status).toBe(400);
    expect(old.body.error).toBe('invalid_client');
    expect((await landlord.as(await tokenFor(client.clientId, secret)).get('/v1/products/alpha')).status).toBe(200);
  });

  it('sets the new secret’s expiry, and refuses a revoked client with 409', async () => {
    const client = await newClient('alpha', { name: 'expiring', expiresAt: '2000-01-01T00:00:00Z' });
    const rotated = await landlord.admin.post(`/v1/products/alpha/clients/${client.id}/rotate-secret`, {
      expiresAt: '2999-01-01T00:00:00Z',
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.expiresAt).toBe('2999-01-01T00:00:00.000Z');
    await tokenFor(client.clientId, rotated.body.data.clientSecret);

    await landlord.admin.delete(`/v1/products/alpha/clients/${client.id}`);
    const refused = await landlord.admin.post(`/v1/products/alpha/clients/${client.id}/rotate-secret`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.metadata.errors[0].code).toBe('client.revoked');
  });
});

describe('expiry and last use', () => {
  it('refuses a client whose expiresAt has passed, as it refuses a wrong secret', async () => {
    const client = await newClient('alpha', { name: 'expired', expiresAt: '2020-01-01T00:00:00Z' });
    const expired = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    const wrong = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: `${client.clientSecret}x` });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('invalid_client');
    expect(expired.body.metadata.errors[0].code).toBe('auth.invalid_client');
    expect(wrong.body).toEqual(expired.body);
  });

  it('shows lastUsedAt once the client got a token', async () => {
    const client = await newClient('alpha');
    expect((await landlord.admin.get(`/v1/products/alpha/clients/${client.id}`)).body.data.lastUsedAt).toBeNull();
    await tokenFor(client.clientId, client.clientSecret);
    const read = await landlord.admin.get(`/v1/products/alpha/clients/${client.id}`);
    expect(Date.parse(read.body.data.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('pages the client list with a cursor in a stable order', async () => {
    for (const name of ['p1', 'p2', 'p3']) await newClient('beta', { name });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await landlord.admin.get(`/v1/products/beta/clients${query}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((item: { id: string }) => item.id));
      cursor = page.body.metadata.pagination.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect((await landlord.admin.get('/v1/products/beta/clients?cursor=zzz')).body.metadata.errors[0].code).toBe('request.invalid_cursor');
  });
});
