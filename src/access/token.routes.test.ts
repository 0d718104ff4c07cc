import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/database.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { manualClock } from '../platform/clock.ts';
import { API_AUDIENCE } from './authenticator.ts';
import { TOKEN_TTL_SECONDS } from './clients.service.ts';

let landlord: TestLandlord;
let client: { id: string; clientId: string; clientSecret: string; productId: string };
beforeAll(async () => {
  landlord = await startTestLandlord();
  await landlord.admin.post('/v1/products', { name: 'gamma', displayName: 'Gamma' });
  await landlord.admin.post('/v1/products', { name: 'delta', displayName: 'Delta' });
  client = (await landlord.admin.post('/v1/products/gamma/clients', { name: 'backend' })).body.data;
});
afterAll(async () => {
  await landlord?.close();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /v1/auth/token', () => {
  it('issues a token for a JSON body, in both the OAuth and the envelope shape', async () => {
    const response = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.body;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS, metadata: { success: true, errors: [] } });
    expect(body.data).toEqual({ accessToken: body.access_token, tokenType: 'Bearer', expiresIn: TOKEN_TTL_SECONDS });
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ cid: client.id, pid: client.productId, sub: client.clientId, aud: API_AUDIENCE });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(TOKEN_TTL_SECONDS);
  });

  it('issues a token for a form body and for HTTP Basic credentials', async () => {
    const viaForm = await landlord
      .as(undefined)
      .raw(
        'POST',
        '/v1/auth/token',
        form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
        FORM,
      );
    expect(viaForm.status).toBe(200);
    expect((await landlord.as(viaForm.body.access_token).get('/v1/products/gamma')).status).toBe(200);

    const viaBasic = await landlord.as(undefined).raw('POST', '/v1/auth/token', form({ grant_type: 'client_credentials' }), {
      ...FORM,
      authorization: basic(client.clientId, client.clientSecret),
    });
    expect(viaBasic.status).toBe(200);
    expect((await landlord.as(viaBasic.body.access_token).get('/v1/products/gamma')).status).toBe(200);
    // A client_id in the body that matches the Basic one is tolerated.
    const both = await landlord
      .as(undefined)
      .raw('POST', '/v1/auth/token', form({ grant_type: 'client_credentials', client_id: client.clientId }), {
        ...FORM,
        authorization: basic(client.clientId, client.clientSecret),
      });
    expect(both.status).toBe(200);
  });

  it('gives an unknown client and a wrong secret the same answer; 401 with a challenge under Basic', async () => {
    const unknown = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: 'cl_nobody', client_secret: client.clientSecret });
    const wrong = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'llcs_wrong' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_client', metadata: { success: false } });
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'auth.invalid_client', sysCode: '1103' });
    expect(unknown.body.error_description).toBe(unknown.body.metadata.errors[0].message);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual(unknown.body);

    const basicWrong = await landlord.as(undefined).raw('POST', '/v1/auth/token', form({ grant_type: 'client_credentials' }), {
      ...FORM,
      authorization: basic(client.clientId, 'llcs_wrong'),
    });
    expect(basicWrong.status).toBe(401);
    expect(basicWrong.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(basicWrong.body.error).toBe('invalid_client');
  });

  it('answers invalid_request naming the field, and unsupported_grant_type', async () => {
    const anonymous = landlord.as(undefined);
    const noGrant = await anonymous.post('/v1/auth/token', { client_id: client.clientId, client_secret: client.clientSecret });
    expect(noGrant.status).toBe(400);
    expect(noGrant.body.error).toBe('invalid_request');
    expect(noGrant.body.metadata.errors[0]).toMatchObject({ code: 'request.invalid', parameter: 'grant_type' });

    const password = await anonymous.raw('POST', '/v1/auth/token', form({ grant_type: 'password', username: 'a', password: 'b' }), FORM);
    expect(password.status).toBe(400);
    expect(password.body.error).toBe('unsupported_grant_type');
    expect(password.body.metadata.errors[0]).toMatchObject({ code: 'auth.unsupported_grant_type', parameter: 'grant_type' });

    const noSecret = await anonymous.post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId });
    expect(noSecret.body.error).toBe('invalid_request');
    expect(noSecret.body.metadata.errors[0].parameter).toBe('client_secret');

    const nothing = await anonymous.post('/v1/auth/token', { grant_type: 'client_credentials' });
    expect(nothing.status).toBe(400);
    expect(nothing.body.error).toBe('invalid_client');

    const wrongType = await anonymous.post('/v1/auth/token', { grant_type: 'client_credentials', client_id: 42, client_secret: 'x' });
    expect(wrongType.body.error).toBe('invalid_request');
    expect(wrongType.body.metadata.errors[0].parameter).toBe('client_id');

    const repeated = await anonymous.raw(
      'POST',
      '/v1/auth/token',
      'grant_type=client_credentials&client_id=a&client_id=b&client_secret=c',
      FORM,
    );
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toBe('invalid_request');
    expect(repeated.body.metadata.errors[0].parameter).toBe('client_id');

    const twoMethods = await anonymous.post(
      '/v1/auth/token',
      { grant_type: 'client_credentials', client_secret: client.clientSecret },
      { authorization: basic(client.clientId, client.clientSecret) },
    );
    expect(twoMethods.status).toBe(400);
    expect(twoMethods.body.metadata.errors[0].parameter).toBe('client_secret');

    const badBasic = await anonymous.post('/v1/auth/token', { grant_type: 'client_credentials' }, { authorization: 'Basic !!!' });
    expect(badBasic.status).toBe(400);
    expect(badBasic.body.metadata.errors[0].parameter).toBe('Authorization');

    const malformed = await anonymous.raw('POST', '/v1/auth/token', '{"grant_type":', { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_request');
    expect(malformed.body.metadata.errors[0].code).toBe('request.malformed_json');

    const nul = await anonymous.post('/v1/auth/token', { grant_type: 'client_credentials', client_id: 'a\u0000b', client_secret: 'x' });
    expect(nul.status).toBe(400);
    expect(nul.body.error).toBe('invalid_request');
  });

  it('answers another media type with 415 in the envelope', async () => {
    const response = await landlord.as(undefined).raw('POST', '/v1/auth/token', '<grant_type/>', { 'content-type': 'application/xml' });
    expect(response.status).toBe(415);
    expect(response.body.metadata.errors[0].code).toBe('request.unsupported_media_type');
  });

  it('is rate limited per address although it is public', async () => {
    const node = await startTestLandlord({ env: { LANDLORD_RATE_LIMIT: '2' } });
    try {
      const ask = () =>
        node.as(undefined).post('/v1/auth/token', { grant_type: 'client_credentials', client_id: 'cl_x', client_secret: 'y' });
      expect((await ask()).status).toBe(400);
      expect((await ask()).status).toBe(400);
      const limited = await ask();
      expect(limited.status).toBe(429);
      expect(limited.body.metadata.errors[0].code).toBe('request.rate_limited');
      expect(limited.headers['retry-after']).toBeDefined();
      // Not public routes in general: the JWKS stays free.
      expect((await node.as(undefined).get('/.well-known/jwks.json')).status).toBe(200);
    } finally {
      await node.close();
    }
  });

  it('is documented in the OpenAPI document', async () => {
    const document = (await landlord.as(undefined).get('/openapi.json')).body;
    expect(document.paths['/v1/auth/token'].post.responses).toHaveProperty('200');
    expect(document.paths['/.well-known/jwks.json'].get).toBeDefined();
  });

  it('keeps form bodies out of the rest of the API (415)', async () => {
    const response = await landlord.admin.raw('POST', '/v1/products', form({ name: 'formed', displayName: 'x' }), FORM);
    expect(response.status).toBe(415);
    expect(response.body.metadata.errors[0].code).toBe('request.unsupported_media_type');
  });
});

describe('client access tokens', () => {
  it('refuses a token for another audience and a tampered token (401)', async () => {
    const keyRing = landlord.node.services.keyRing;
    const foreign = await keyRing.sign(
      { cid: client.id, pid: client.productId },
      { subject: client.clientId, audience: 'elsewhere', expiresInSeconds: 60 },
    );
    const refused = await landlord.as(foreign).get('/v1/products/gamma');
    expect(refused.status).toBe(401);
    expect(refused.body.metadata.errors[0].code).toBe('auth.invalid_credential');

    const token = (
      await landlord
        .as(undefined)
        .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
    ).body.access_token as string;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, pid: 'someone-else' })).toString('base64url');
    expect((await landlord.as(`${header}.${forged}.${signature}`).get('/v1/products/gamma')).status).toBe(401);
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expect((await landlord.as(`${header}.${payload}.${flipped}`).get('/v1/products/gamma')).status).toBe(401);
    expect((await landlord.as(token).get('/v1/products/gamma')).status).toBe(200);
  });

  it('stops working when it expires, and never outlives the client’s expiry', async () => {
    const clock = manualClock(new Date());
    const node = await startTestLandlord({ clock });
    try {
      await node.admin.post('/v1/products', { name: 'timed', displayName: 'Timed' });
      const expiresAt = new Date(clock.now().getTime() + 600_000).toISOString();
      const short = (await node.admin.post('/v1/products/timed/clients', { name: 'short', expiresAt })).body.data;
      const issued = await node
        .as(undefined)
        .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: short.clientId, client_secret: short.clientSecret });
      expect(issued.body.expires_in).toBe(600);
      expect((await node.as(issued.body.access_token).get('/v1/products/timed')).status).toBe(200);
      clock.advance(601_000);
      expect((await node.as(issued.body.access_token).get('/v1/products/timed')).status).toBe(401);
    } finally {
      await node.close();
    }
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('serves the public key that verifies an issued token, with a short cache lifetime', async () => {
    const jwks = await landlord.as(undefined).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    expect(jwks.text).not.toContain('"d"');
    const token = (
      await landlord
        .as(undefined)
        .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret })
    ).body.access_token;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body), {
      audience: API_AUDIENCE,
      issuer: 'landlord',
    });
    expect(payload.cid).toBe(client.id);
    expect(jwks.body.keys.map((key: { kid: string }) => key.kid)).toContain(protectedHeader.kid);
  });
});

describe('revocation across nodes', () => {
  it('reaches a second node on the same database at once', async () => {
    const database = await createTestDatabase();
    const nodeA = await startTestLandlord({ database });
    const nodeB = await startTestLandlord({ database });
    let nodeBOpen = true;
    try {
      await nodeA.admin.post('/v1/products', { name: 'shared', displayName: 'Shared' });
      const shared = (await nodeA.admin.post('/v1/products/shared/clients', { name: 'backend' })).body.data;
      const token = (
        await nodeB
          .as(undefined)
          .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: shared.clientId, client_secret: shared.clientSecret })
      ).body.access_token;
      // Node B now holds the client in its cache.
      expect((await nodeB.as(token).get('/v1/products/shared')).status).toBe(200);
      expect((await nodeB.as(token).get('/v1/products/shared')).status).toBe(200);

      // Clear last_used_at, so the flush on close below is what sets it.
      await nodeA.node.services.db.updateTable('clients').set({ last_used_at: null }).where('id', '=', shared.id).execute();
      expect((await nodeB.as(token).get('/v1/products/shared')).status).toBe(200);

      expect((await nodeA.admin.delete(`/v1/products/shared/clients/${shared.clientId}`)).status).toBe(200);
      let status = 200;
      // Well under the cache's 60 s lifetime: only the NOTIFY can have told node B (5 s, for a loaded machine).
      for (const started = Date.now(); Date.now() - started < 5000; ) {
        status = (await nodeB.as(token).get('/v1/products/shared')).status;
        if (status === 401) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(401);

      nodeBOpen = false;
      await nodeB.close();
      const row = await nodeA.node.services.db
        .selectFrom('clients')
        .select('last_used_at')
        .where('id', '=', shared.id)
        .executeTakeFirstOrThrow();
      expect(row.last_used_at).not.toBeNull();
    } finally {
      if (nodeBOpen) await nodeB.close();
      await nodeA.close();
      await database.drop();
    }
  }, 120_000);
});
