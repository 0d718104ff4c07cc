import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from './helpers/backend-simulator.ts';
import { createPlanPrice, createSpecification, createTenant } from './helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from './helpers/landlord.ts';
import { type WiredProduct, wireProduct } from './helpers/rosaas.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let wired: WiredProduct;
const params: Record<string, string> = {};

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  wired = await wireProduct(landlord, backend, { autoSendCreation: false });
  const product = wired.product.name;
  const { plan, price } = await createPlanPrice(landlord.admin, product);
  await createSpecification(landlord.admin, product, { name: 'region', type: 'string', pattern: '^[a-z]+$' });
  const feature = await landlord.admin.post(`/v1/products/${product}/features`, { name: 'seats', displayName: 'Seats', type: 'number' });
  const tenant = await createTenant(landlord.admin, product);
  Object.assign(params, {
    product,
    plan,
    price,
    feature: feature.body.data?.name ?? 'seats',
    specification: 'region',
    tenant: tenant.name,
    name: tenant.name,
    clientId: wired.clientId,
  });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** Strings that have broken services before: SQL, regex and template metacharacters, odd unicode, NUL, sheer size. */
const nasty = fc.oneof(
  fc.constantFrom(
    "' OR 1=1 --",
    '"; drop table tenants; --',
    '(a+)+$',
    '^(([a-z])+.)+[A-Z]([a-z])+$',
    '%_\\',
    '{name}{tenantId}{}',
    '\u0000',
    '\ud800',
    '🏠🔑',
    '‮reversed',
    '__proto__',
    'constructor',
    'http://127.0.0.1:1/{name}',
    '',
    ' ',
    'x'.repeat(70_000),
  ),
  fc.string({ unit: 'binary', maxLength: 64 }),
);

const deep = fc.integer({ min: 30, max: 80 }).map((depth) => {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = { d: [value] };
  return value;
});

/** A body built from the route's own field names with hostile values, or anything at all. */
const bodyFor = (fields: string[]) =>
  fc.oneof(
    fc.anything({ maxDepth: 4, withNullPrototype: false }),
    deep,
    fc.dictionary(
      fields.length ? fc.constantFrom(...fields) : fc.string(),
      fc.oneof(nasty, fc.anything({ maxDepth: 2 }), fc.integer(), fc.double()),
      {
        maxKeys: 6,
      },
    ),
  );

it('answers every generated body on every POST, PUT and PATCH route with a 4xx or 2xx in the envelope, never a 5xx', async () => {
  const document = (await landlord.admin.get('/openapi.json')).body;
  const routes: { method: string; path: string; fields: string[] }[] = [];
  for (const [path, operations] of Object.entries<any>(document.paths)) {
    for (const method of ['post', 'put', 'patch']) {
      const operation = operations[method];
      if (!operation) continue;
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      routes.push({ method: method.toUpperCase(), path, fields: Object.keys(schema?.properties ?? {}) });
    }
  }
  expect(routes.length).toBeGreaterThan(30);

  for (const route of routes) {
    const url = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? 'unknown'));
    await fc.assert(
      fc.asyncProperty(bodyFor(route.fields), async (body) => {
        const text = JSON.stringify(body) ?? 'null';
        const response = await landlord.admin.raw(route.method, url, text, { 'content-type': 'application/json' });
        const where = `${route.method} ${url} with ${text.slice(0, 200)} → ${response.status} ${response.text.slice(0, 300)}`;
        expect(response.status, where).toBeLessThan(500);
        // The Roomle adapter answers in Roomle's shape: an `error` object beside `meta` (ADR 0013).
        if (route.path.startsWith('/v2/')) {
          expect(response.body?.meta?.serverTime, where).toBeDefined();
          if (response.status >= 400) expect(response.body.error?.code, where).toBeDefined();
          return;
        }
        expect(response.body?.metadata, where).toBeDefined();
        expect(typeof response.body.metadata.success, where).toBe('boolean');
        if (response.status >= 400) expect(response.body.metadata.errors.length, where).toBeGreaterThan(0);
      }),
      { numRuns: 12, seed: 20261122 + route.path.length },
    );
  }
  expect((await landlord.admin.get('/readyz')).status).toBe(200);
}, 300_000);
