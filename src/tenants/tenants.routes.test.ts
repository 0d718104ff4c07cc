import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPlanPrice,
  createProduct,
  createSpecification,
  createTenant,
  productAdminKey,
  uniqueName,
} from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { type Principal, SYSTEM_ACTOR } from '../access/principal.ts';
import { insertTenantLogged } from './tenants.repo.ts';
import { prepareTenant } from './tenants.service.ts';

let landlord: TestLandlord;
let product: { id: string; name: string };
let other: { id: string; name: string };

// Tenants here stay records: no creation request goes to a backend.
const quiet = { provisioning: { autoSendCreation: false } };

beforeAll(async () => {
  landlord = await startTestLandlord();
  product = await createProduct(landlord.admin, quiet);
  other = await createProduct(landlord.admin, quiet);
  await createSpecification(landlord.admin, product.name, { name: 'seats', type: 'number', required: true });
  await createSpecification(landlord.admin, product.name, { name: 'contact', type: 'email' });
  await createSpecification(landlord.admin, product.name, { name: 'region', type: 'string', pattern: '^(eu|us)-[a-z]+$' });
});
afterAll(async () => {
  await landlord?.close();
});

describe('POST /v1/tenants', () => {
  it('creates a record with normalised specification values and the actions an operator may take', async () => {
    const name = uniqueName('acme');
    const response = await landlord.admin.post('/v1/tenants', {
      product: product.name,
      name,
      displayName: 'Acme Inc.',
      specifications: { seats: '25', contact: 'ops@acme.example', region: 'eu-west' },
      metadata: { crmId: 42 },
    });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({
      name,
      displayName: 'Acme Inc.',
      product: { id: product.id, name: product.name },
      status: 'record_created',
      failedStep: null,
      specifications: { seats: 25, contact: 'ops@acme.example', region: 'eu-west' },
      metadata: { crmId: 42 },
      planPrice: null,
      actions: ['send_creation_request', 'delete'],
    });
    expect(response.headers.etag).toBeDefined();
    const byName = await landlord.admin.get(`/v1/tenants/${name.toUpperCase()}`);
    expect(byName.status).toBe(200);
    expect(byName.body.data.id).toBe(response.body.data.id);
  });

  it('names each specification problem: missing required, wrong type, pattern, unknown', async () => {
    const response = await landlord.admin.post('/v1/tenants', {
      product: product.name,
      name: uniqueName('bad-specs'),
      displayName: 'x',
      specifications: { contact: 'not-an-email', region: 'asia', colour: 'red' },
    });
    expect(response.status).toBe(400);
    const byParameter = Object.fromEntries(response.body.metadata.errors.map((error: any) => [error.parameter, error.code]));
    expect(byParameter).toEqual({
      'specifications.contact': 'tenant.invalid_specification',
      'specifications.region': 'tenant.invalid_specification',
      'specifications.colour': 'tenant.invalid_specification',
      'specifications.seats': 'tenant.invalid_specification',
    });
  });

  it('refuses a taken name (409), a bad name (400) and a name shaped like a UUID (400)', async () => {
    const tenant = await createTenant(landlord.admin, other.name);
    const taken = await landlord.admin.post('/v1/tenants', { product: other.name, name: tenant.name, displayName: 'x' });
    expect(taken.status).toBe(409);
    expect(taken.body.metadata.errors[0]).toMatchObject({ code: 'tenant.name_taken', parameter: 'name' });
    const bad = await landlord.admin.post('/v1/tenants', { product: other.name, name: 'Not A Name', displayName: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.metadata.errors[0].parameter).toBe('name');
    const uuid = await landlord.admin.post('/v1/tenants', {
      product: other.name,
      name: '0192f0c8-1234-7abc-8def-0123456789ab',
      displayName: 'x',
    });
    expect(uuid.status).toBe(400);
  });

  it('attaches a published plan price and refuses unknown or unpublished ones', async () => {
    const published = await createPlanPrice(landlord.admin, other.name);
    const draft = await createPlanPrice(landlord.admin, other.name, { publish: false });
    const withPlan = await createTenant(landlord.admin, other.name, { plan: published.price });
    expect(withPlan.planPrice).toEqual({ id: published.id, name: published.price });

    const unknown = await landlord.admin.post('/v1/tenants', {
      product: other.name,
      name: uniqueName('t'),
      displayName: 'x',
      plan: 'nope',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.metadata.errors[0]).toMatchObject({ code: 'tenant.invalid_plan', parameter: 'plan' });
    const unpublished = await landlord.admin.post('/v1/tenants', {
      product: other.name,
      name: uniqueName('t'),
      displayName: 'x',
      plan: draft.price,
    });
    expect(unpublished.status).toBe(400);
    expect(unpublished.body.metadata.errors[0].code).toBe('price.not_published');
  });

  it('needs a product, and refuses one the caller cannot see with 404', async () => {
    const missing = await landlord.admin.post('/v1/tenants', { name: uniqueName('t'), displayName: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.metadata.errors[0].parameter).toBe('product');
    const scoped = landlord.as(await productAdminKey(landlord, other.name));
    const foreign = await scoped.post('/v1/tenants', {
      product: product.name,
      name: uniqueName('t'),
      displayName: 'x',
      specifications: { seats: 1 },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.metadata.errors[0].code).toBe('product.not_found');
  });

  it('writes nothing when the specifications changed after the values were checked, so the write is checked again', async () => {
    const { db, clock } = landlord.node.services;
    const principal: Principal = { kind: 'admin_key', id: 'test', role: 'super_admin', productId: null, name: 'test' };
    const caller = { principal, actor: SYSTEM_ACTOR };
    const prepared = await prepareTenant(db, { clock }, caller, {
      product: product.name,
      name: uniqueName('stale'),
      displayName: 'Stale',
      specifications: { seats: 2 },
    });
    const stale = { ...prepared.log, rulesFingerprint: `${prepared.log.rulesFingerprint},changed` };
    expect(await insertTenantLogged(db, prepared.row, stale)).toEqual({ written: null, rulesChanged: true });
    expect(await db.selectFrom('tenants').where('id', '=', prepared.row.id).select('id').executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('audit_log').where('object_id', '=', prepared.row.id).select('id').executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('events').where('tenant_id', '=', prepared.row.id).select('id').executeTakeFirst()).toBeUndefined();
    const written = await insertTenantLogged(db, prepared.row, prepared.log);
    expect(written.written).toMatchObject({ id: prepared.row.id, status: 'record_created' });
    const events = await db.selectFrom('events').where('tenant_id', '=', prepared.row.id).select(['type', 'tenant_seq']).execute();
    expect(events.map((event) => [event.type, Number(event.tenant_seq)])).toEqual([['tenant.created', 1]]);
  });
});

// The key is claimed in the tenant's own write: with or without the creation call in the same transaction.
describe.each([
  ['stays a record', quiet],
  ['sends its creation request at once', { provisioning: { autoSendCreation: true } }],
])('POST /v1/tenants with an Idempotency-Key, for a tenant that %s', (_label, settings) => {
  let owner: { id: string; name: string };
  beforeAll(async () => {
    owner = await createProduct(landlord.admin, settings);
  });

  it('replays the first answer for the same key and body, and refuses the key with another body', async () => {
    const key = uniqueName('idem');
    const body = { product: owner.name, name: uniqueName('idem-tenant'), displayName: 'Once' };
    const first = await landlord.admin.post('/v1/tenants', body, { 'idempotency-key': key });
    const second = await landlord.admin.post('/v1/tenants', body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    const changed = await landlord.admin.post('/v1/tenants', { ...body, displayName: 'Twice' }, { 'idempotency-key': key });
    expect(changed.status).toBe(422);
    expect(changed.body.metadata.errors[0].code).toBe('idempotency.key_reused');
  });

  it('lets exactly one of concurrent requests with one key write; the others see it running (409) or replay it', async () => {
    const key = uniqueName('race');
    const body = { product: owner.name, name: uniqueName('race-tenant'), displayName: 'Race' };
    const answers = await Promise.all([1, 2, 3, 4].map(() => landlord.admin.post('/v1/tenants', body, { 'idempotency-key': key })));
    const written = answers.filter((answer) => answer.status === 201 && answer.headers['idempotent-replayed'] === undefined);
    expect(written).toHaveLength(1);
    for (const answer of answers.filter((other) => other !== written[0])) {
      if (answer.status === 201) expect(answer.body).toEqual(written[0]?.body);
      else expect(answer.body.metadata.errors[0].code).toBe('idempotency.in_progress');
    }
    const list = await landlord.admin.get(`/v1/tenants?product=${owner.name}&q=${body.name}`);
    expect(list.body.data).toHaveLength(1);
  });

  it('stores nothing for a request refused before writing, so the key still serves a corrected body', async () => {
    const key = uniqueName('fix');
    const name = uniqueName('fix-tenant');
    const refused = await landlord.admin.post(
      '/v1/tenants',
      { product: owner.name, name, displayName: 'Fix', plan: 'nope' },
      { 'idempotency-key': key },
    );
    expect(refused.status).toBe(400);
    const fixed = await landlord.admin.post('/v1/tenants', { product: owner.name, name, displayName: 'Fix' }, { 'idempotency-key': key });
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('GET /v1/tenants', () => {
  it('filters by product, status and name prefix, and pages in a stable order', async () => {
    const owner = await createProduct(landlord.admin, quiet);
    const names = ['alpha-1', 'alpha-2', 'alpha-3', 'beta-1'].map((name) => uniqueName(name));
    for (const name of names) await createTenant(landlord.admin, owner.name, { name, displayName: name.toUpperCase() });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await landlord.admin.get(
        `/v1/tenants?product=${owner.name}&status=record_created&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((tenant: any) => tenant.name));
      cursor = page.body.metadata.pagination.nextCursor;
    } while (cursor);
    expect(seen).toEqual(names);
    const prefix = await landlord.admin.get(`/v1/tenants?product=${owner.name}&q=ALPHA`);
    expect(prefix.body.data.map((tenant: any) => tenant.name)).toEqual(names.slice(0, 3));
    const wildcard = await landlord.admin.get(`/v1/tenants?product=${owner.name}&q=${encodeURIComponent('%')}`);
    expect(wildcard.body.data).toEqual([]);
    const none = await landlord.admin.get(`/v1/tenants?product=${owner.name}&status=active`);
    expect(none.body.data).toEqual([]);
  });

  it('shows a product-scoped operator only its own product', async () => {
    const scoped = landlord.as(await productAdminKey(landlord, other.name));
    const list = await scoped.get('/v1/tenants?limit=500');
    expect(list.status).toBe(200);
    expect(list.body.data.every((tenant: any) => tenant.product.id === other.id)).toBe(true);
    expect((await scoped.get(`/v1/tenants?product=${product.name}`)).status).toBe(404);
  });

  it('refuses a bad status filter and a garbled cursor', async () => {
    expect((await landlord.admin.get('/v1/tenants?status=asleep')).status).toBe(400);
    expect((await landlord.admin.get('/v1/tenants?cursor=abc')).body.metadata.errors[0].code).toBe('request.invalid_cursor');
  });
});

describe('GET and PATCH /v1/tenants/{tenant}', () => {
  it('changes the display name and merges specifications, honouring If-Match', async () => {
    const tenant = await createTenant(landlord.admin, product.name, { specifications: { seats: 3, region: 'us-east' } });
    const read = await landlord.admin.get(`/v1/tenants/${tenant.id}`);
    const patched = await landlord.admin.patch(
      `/v1/tenants/${tenant.name}`,
      { displayName: 'Renamed', specifications: { seats: 5, region: null } },
      { 'if-match': read.headers.etag as string },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data.displayName).toBe('Renamed');
    expect(patched.body.data.specifications).toEqual({ seats: 5 });
    const stale = await landlord.admin.patch(
      `/v1/tenants/${tenant.name}`,
      { displayName: 'Stale' },
      { 'if-match': read.headers.etag as string },
    );
    expect(stale.status).toBe(412);
    const invalid = await landlord.admin.patch(`/v1/tenants/${tenant.name}`, { specifications: { seats: 'many' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.metadata.errors[0].parameter).toBe('specifications.seats');
  });

  it("answers 404 for an unknown tenant and for another product's tenant", async () => {
    expect((await landlord.admin.get('/v1/tenants/does-not-exist')).body.metadata.errors[0].code).toBe('tenant.not_found');
    const tenant = await createTenant(landlord.admin, product.name, { specifications: { seats: 1 } });
    const scoped = landlord.as(await productAdminKey(landlord, other.name));
    expect((await scoped.get(`/v1/tenants/${tenant.name}`)).status).toBe(404);
    expect((await scoped.patch(`/v1/tenants/${tenant.name}`, { displayName: 'x' })).status).toBe(404);
    expect((await scoped.put(`/v1/tenants/${tenant.name}/metadata`, {})).status).toBe(404);
  });

  it('refuses a request without a credential', async () => {
    expect((await landlord.as(undefined).get('/v1/tenants')).status).toBe(401);
  });
});

describe('/v1/tenants/{tenant}/metadata', () => {
  it('replaces with PUT, merges with PATCH (null deletes), and reads with GET', async () => {
    const tenant = await createTenant(landlord.admin, other.name, { metadata: { a: 1, nested: { x: 1, y: 2 } } });
    const put = await landlord.admin.put(`/v1/tenants/${tenant.name}/metadata`, { b: 2, nested: { x: 1, y: 2 } });
    expect(put.body.data).toEqual({ b: 2, nested: { x: 1, y: 2 } });
    const patch = await landlord.admin.patch(`/v1/tenants/${tenant.name}/metadata`, { b: null, nested: { y: 3 }, c: [1, 2] });
    expect(patch.body.data).toEqual({ nested: { x: 1, y: 3 }, c: [1, 2] });
    const get = await landlord.admin.get(`/v1/tenants/${tenant.name}/metadata`);
    expect(get.body.data).toEqual({ nested: { x: 1, y: 3 }, c: [1, 2] });
  });

  it('refuses metadata over 64 KiB, nested too deep, or holding a NUL character', async () => {
    const tenant = await createTenant(landlord.admin, other.name);
    const big = await landlord.admin.put(`/v1/tenants/${tenant.name}/metadata`, { blob: 'x'.repeat(70_000) });
    expect(big.status).toBe(400);
    expect(big.body.metadata.errors[0].parameter).toBe('metadata');
    let deep: any = 'leaf';
    for (let level = 0; level < 40; level++) deep = { d: deep };
    const nested = await landlord.admin.put(`/v1/tenants/${tenant.name}/metadata`, deep);
    expect(nested.status).toBe(400);
    const nul = await landlord.admin.put(`/v1/tenants/${tenant.name}/metadata`, { note: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.body.metadata.errors[0].parameter).toBe('note');
    expect((await landlord.admin.get(`/v1/tenants/${tenant.name}/metadata`)).body.data).toEqual({});
  });

  it('refuses a metadata body that is not an object', async () => {
    const tenant = await createTenant(landlord.admin, other.name);
    expect((await landlord.admin.put(`/v1/tenants/${tenant.name}/metadata`, [1, 2])).status).toBe(400);
  });
});
