import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct, productAdminKey } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';

let landlord: TestLandlord;
let product: string;
let other: string;

beforeAll(async () => {
  landlord = await startTestLandlord();
  product = (await createProduct(landlord.admin)).name;
  other = (await createProduct(landlord.admin)).name;
});
afterAll(async () => {
  await landlord?.close();
});

const body = {
  name: 'Web',
  type: 'confidential',
  redirectUris: ['https://rp.example/cb'],
  postLogoutRedirectUris: ['https://rp.example/'],
};

describe('/v1/products/{product}/oidc-clients', () => {
  it('registers, lists, reads and revokes a client; the secret is shown once and never again', async () => {
    const created = await landlord.admin.post(`/v1/products/${product}/oidc-clients`, body);
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const client = created.body.data;
    expect(client).toMatchObject({
      product,
      type: 'confidential',
      tokenEndpointAuthMethod: 'client_secret_basic',
      pkceRequired: false,
      revoked: false,
    });
    expect(client.clientSecret).toMatch(/^lloc_/);
    const listed = await landlord.admin.get(`/v1/products/${product}/oidc-clients`);
    expect(listed.body.data.map((one: { clientId: string }) => one.clientId)).toContain(client.clientId);
    const read = await landlord.admin.get(`/v1/products/${product}/oidc-clients/${client.clientId}`);
    expect(read.body.data.redirectUris).toEqual(['https://rp.example/cb']);
    expect(read.text + listed.text).not.toContain(client.clientSecret);
    const revoked = await landlord.admin.delete(`/v1/products/${product}/oidc-clients/${client.clientId}`);
    expect(revoked.body.data?.revoked, revoked.text).toBe(true);
    const publicClient = await landlord.admin.post(`/v1/products/${product}/oidc-clients`, { ...body, type: 'public' });
    expect(publicClient.body.data).toMatchObject({ tokenEndpointAuthMethod: 'none', pkceRequired: true });
    expect(publicClient.body.data.clientSecret).toBeUndefined();
  });

  it('names the field at fault: a redirect URI with a fragment or another scheme, no redirect URI, an unknown type', async () => {
    for (const [change, parameter] of [
      [{ redirectUris: ['https://rp.example/cb#x'] }, 'redirectUris.0'],
      [{ redirectUris: ['javascript:alert(1)'] }, 'redirectUris.0'],
      [{ postLogoutRedirectUris: ['ftp://rp.example/'] }, 'postLogoutRedirectUris.0'],
      [{ redirectUris: [] }, 'redirectUris'],
      [{ type: 'implicit' }, 'type'],
    ] as const) {
      const refused = await landlord.admin.post(`/v1/products/${product}/oidc-clients`, { ...body, ...change });
      expect(refused.status, JSON.stringify(change)).toBe(400);
      expect(refused.body.metadata.errors[0].parameter, JSON.stringify(change)).toBe(parameter);
    }
    expect((await landlord.admin.get(`/v1/products/${product}/oidc-clients/oidc_nothing`)).status).toBe(404);
  });

  it('answers another product’s credential 404 and no credential 401', async () => {
    const created = await landlord.admin.post(`/v1/products/${product}/oidc-clients`, body);
    const foreign = landlord.as(await productAdminKey(landlord, other));
    for (const answer of [
      await foreign.get(`/v1/products/${product}/oidc-clients`),
      await foreign.get(`/v1/products/${product}/oidc-clients/${created.body.data.clientId}`),
      await foreign.post(`/v1/products/${product}/oidc-clients`, body),
      await foreign.delete(`/v1/products/${product}/oidc-clients/${created.body.data.clientId}`),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body.metadata.errors[0].code).toBe('product.not_found');
    }
    expect((await landlord.as(undefined).get(`/v1/products/${product}/oidc-clients`)).status).toBe(401);
  });
});
