import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { createApiKey } from '../access/api-keys.service.ts';
import { SYSTEM_ACTOR } from '../access/principal.ts';

interface AuditItem {
  id: number;
  at: string;
  actor: { type: string; id: string };
  action: string;
  objectType: string;
  objectId: string;
  productId: string | null;
  before: any;
  after: any;
  requestId: string | null;
}

let landlord: TestLandlord;
let omega: { id: string };
let sigma: { id: string };
let omegaAdmin: { id: string; key: string };
beforeAll(async () => {
  landlord = await startTestLandlord();
  omega = (await landlord.admin.post('/v1/products', { name: 'omega', displayName: 'Omega' })).body.data;
  sigma = (await landlord.admin.post('/v1/products', { name: 'sigma', displayName: 'Sigma' })).body.data;
  omegaAdmin = await createApiKey(landlord.node.services.db, SYSTEM_ACTOR, { name: 'omega ops', role: 'product_admin', product: 'omega' });
});
afterAll(async () => {
  await landlord?.close();
});

async function readAll(path: string, token?: string): Promise<AuditItem[]> {
  const client = token ? landlord.as(token) : landlord.admin;
  const separator = path.includes('?') ? '&' : '?';
  const response = await client.get(`${path}${separator}limit=500`);
  expect(response.status).toBe(200);
  return response.body.data;
}

describe('GET /v1/audit-log', () => {
  it('records every write with its actor, request id, before and after, and no secret', async () => {
    const created = await landlord.admin.post('/v1/products/omega/clients', { name: 'audited' });
    const client = created.body.data;
    const revoked = await landlord.admin.delete(`/v1/products/omega/clients/${client.id}`);

    const records = await readAll(`/v1/audit-log?objectType=client&objectId=${client.id}`);
    expect(records.map((record) => record.action)).toEqual(['client.revoke', 'client.create']);
    const [revoke, create] = records as [AuditItem, AuditItem];
    expect(create).toMatchObject({
      actor: { type: 'admin_key', id: 'admin-key' },
      objectType: 'client',
      objectId: client.id,
      productId: omega.id,
      before: null,
      requestId: created.headers['x-request-id'],
    });
    expect(create.after).toMatchObject({ clientId: client.clientId, name: 'audited', revokedAt: null });
    expect(revoke.before.revokedAt).toBeNull();
    expect(revoke.after.revokedAt).toBe(revoked.body.data.revokedAt);
    expect(revoke.requestId).toBe(revoked.headers['x-request-id']);
    expect(revoke.id).toBeGreaterThan(create.id);
    expect(Date.parse(create.at)).not.toBeNaN();

    const rotated = await landlord.admin.post(
      `/v1/products/omega/clients/${(await landlord.admin.post('/v1/products/omega/clients', { name: 'r' })).body.data.id}/rotate-secret`,
    );
    const everything = await landlord.admin.get('/v1/audit-log?limit=500');
    expect(everything.text).not.toContain(client.clientSecret);
    expect(everything.text).not.toContain(rotated.body.data.clientSecret);
    expect(everything.text).not.toContain('llcs_');
    expect(everything.body.data.map((record: AuditItem) => record.action)).toContain('client.rotate_secret');
  });

  it('filters by product (id or name), action, actor and time', async () => {
    await landlord.admin.post('/v1/products/sigma/clients', { name: 'sigma backend' });
    const byName = await readAll('/v1/audit-log?product=sigma');
    const byId = await readAll(`/v1/audit-log?product=${sigma.id}`);
    expect(byName.length).toBeGreaterThanOrEqual(2);
    expect(byName).toEqual(byId);
    expect(byName.every((record) => record.productId === sigma.id)).toBe(true);
    expect(byName.map((record) => record.action)).toEqual(expect.arrayContaining(['product.create', 'client.create']));

    const creations = await readAll('/v1/audit-log?action=product.create');
    expect(creations.map((record) => record.objectId)).toEqual(expect.arrayContaining([omega.id, sigma.id]));
    expect(creations.every((record) => record.action === 'product.create')).toBe(true);

    expect((await readAll('/v1/audit-log?actorId=admin-key')).length).toBeGreaterThan(0);
    expect(await readAll('/v1/audit-log?actorId=nobody')).toEqual([]);

    const all = await readAll('/v1/audit-log');
    const newest = all[0] as AuditItem;
    expect(await readAll(`/v1/audit-log?since=${encodeURIComponent(new Date(Date.parse(newest.at) + 1).toISOString())}`)).toEqual([]);
    const untilNewest = await readAll(`/v1/audit-log?until=${encodeURIComponent(newest.at)}`);
    expect(untilNewest.map((record) => record.id)).not.toContain(newest.id);
    expect(await readAll(`/v1/audit-log?since=${encodeURIComponent(newest.at)}`)).toContainEqual(newest);
  });

  it('pages newest first with a stable cursor', async () => {
    const all = await readAll('/v1/audit-log');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await landlord.admin.get(`/v1/audit-log${query}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((record: AuditItem) => record.id));
      cursor = page.body.metadata.pagination.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((record) => record.id));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it('shows a product admin only its product, and hides other products (404)', async () => {
    await landlord.admin.post('/v1/products/sigma/clients', { name: 'not for omega' });
    const own = await readAll('/v1/audit-log', omegaAdmin.key);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((record) => record.productId === omega.id)).toBe(true);
    expect(await readAll('/v1/audit-log?product=omega', omegaAdmin.key)).toEqual(own);

    for (const ref of ['sigma', sigma.id, 'no-such-product']) {
      const foreign = await landlord.as(omegaAdmin.key).get(`/v1/audit-log?product=${ref}`);
      expect(foreign.status).toBe(404);
      expect(foreign.body.metadata.errors[0]).toMatchObject({ code: 'product.not_found', parameter: 'querystring.product' });
    }
  });

  it('shows a product client only its product', async () => {
    const client = (await landlord.admin.post('/v1/products/sigma/clients', { name: 'reader' })).body.data;
    const token = (
      await landlord
        .as(undefined)
        .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
    ).body.access_token;
    const records = await readAll('/v1/audit-log', token);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((record) => record.productId === sigma.id)).toBe(true);
    expect((await landlord.as(token).get('/v1/audit-log?product=omega')).status).toBe(404);
  });

  it('names the bad parameter: date, unknown filter, cursor, reversed range', async () => {
    const badDate = await landlord.admin.get('/v1/audit-log?since=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.body.metadata.errors[0].parameter).toBe('querystring.since');
    const unknown = await landlord.admin.get('/v1/audit-log?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'request.unknown_field', parameter: 'querystring.colour' });
    const garbled = await landlord.admin.get('/v1/audit-log?cursor=zzz');
    expect(garbled.body.metadata.errors[0].code).toBe('request.invalid_cursor');
    const huge = await landlord.admin.get(`/v1/audit-log?cursor=${Buffer.from('9999999999999999999').toString('base64url')}`);
    expect(huge.status).toBe(400);
    expect(huge.body.metadata.errors[0].code).toBe('request.invalid_cursor');
    const reversed = await landlord.admin.get('/v1/audit-log?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body.metadata.errors[0].parameter).toBe('querystring.until');
  });

  it('refuses a call without a credential (401)', async () => {
    expect((await landlord.as(undefined).get('/v1/audit-log')).status).toBe(401);
  });
});
