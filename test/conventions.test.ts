import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors/codes.ts';
import { compileDeferredSchemas } from '../src/http/app.ts';
import { createProduct } from './helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from './helpers/landlord.ts';

const logLines: string[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

let landlord: TestLandlord;
beforeAll(async () => {
  landlord = await startTestLandlord({ logger, env: { LANDLORD_RATE_LIMIT: '20' } });
});
afterAll(async () => {
  await landlord?.close();
});

describe('conventions every route inherits', () => {
  it('answers an unexpected failure with a 500 in the envelope, whose request id is in the log line with the stack', async () => {
    // Break the database under a route: nothing the request did is at fault.
    await sql`alter table audit_log rename to audit_log_away`.execute(landlord.node.services.db);
    try {
      const response = await landlord.admin.get('/v1/audit-log');
      expect(response.status).toBe(500);
      expect(response.body.metadata.errors[0].code).toBe('server.internal');
      const requestId = response.body.metadata.requestId;
      expect(requestId).toBe(response.headers['x-request-id']);
      expect(response.text).not.toContain('audit_log_away');
      expect(response.text).not.toMatch(/\bat .*\.ts/);
      const line = logLines.find((entry) => entry.includes(requestId) && entry.includes('unexpected error'));
      expect(line).toBeDefined();
      expect(line).toContain('"stack"');
    } finally {
      await sql`alter table audit_log_away rename to audit_log`.execute(landlord.node.services.db);
    }
  });

  it('limits each credential to its rate, answering 429 with Retry-After in the envelope; another credential is unaffected', async () => {
    const product = await createProduct(landlord.admin);
    const key = (await landlord.admin.post(`/v1/products/${product.name}/clients`, { name: 'rl' })).body.data;
    let last = await landlord.admin.get('/v1/products');
    for (let index = 0; index < 25 && last.status !== 429; index++) last = await landlord.admin.get('/v1/products');
    expect(last.status).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.body.metadata.errors[0].code).toBe('request.rate_limited');
    const token = await landlord
      .as(undefined)
      .post('/v1/auth/token', { grant_type: 'client_credentials', client_id: key.clientId, client_secret: key.clientSecret });
    expect((await landlord.as(token.body.access_token).get(`/v1/products/${product.name}`)).status).toBe(200);
  });

  it('compiles every route schema it deferred from start-up, and answers alike before and after', async () => {
    // Start-up leaves validators and serializers uncompiled; the node compiles them once it listens.
    const before = await landlord.admin.post('/v1/products', { name: 42 });
    await expect(compileDeferredSchemas(landlord.node.app)).resolves.toBeUndefined();
    const after = await landlord.admin.post('/v1/products', { name: 42 });
    expect(before.status).toBe(400);
    expect(after.body.metadata.errors).toEqual(before.body.metadata.errors);
  });

  it('answers unknown routes and methods in the envelope', async () => {
    const unknown = await landlord.as(undefined).get('/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.metadata.errors[0].code).toBe('request.route_not_found');
  });

  it('describes every operation with response schemas and publishes the event types as OpenAPI webhooks', async () => {
    const document = (await landlord.as(undefined).get('/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        expect(Object.keys(operation.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(document.webhooks)).toEqual(
      expect.arrayContaining(['tenant.created', 'tenant.status_changed', 'tenant.availability.unhealthy']),
    );
  });

  it('gives every error code a sysCode of its own, but every not-found the RoSaaS "does not exist" 1005', () => {
    const byCode = Object.entries(ERROR_CODES);
    for (const [code, { status, sysCode }] of byCode.filter(([code]) => code.endsWith('.not_found')))
      expect({ code, status, sysCode }).toEqual({ code, status: 404, sysCode: '1005' });
    expect(byCode.filter(([code, { sysCode }]) => sysCode === '1005' && !code.endsWith('.not_found'))).toEqual([]);
    const others = byCode.filter(([, { sysCode }]) => sysCode !== '1005');
    const owners = new Map<string, string[]>();
    for (const [code, { sysCode }] of others) owners.set(sysCode, [...(owners.get(sysCode) ?? []), code]);
    expect([...owners.values()].filter((codes) => codes.length > 1)).toEqual([]);
  });
});
