import { createHash, X509Certificate } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { SAML, type SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { Browser, type Page, signIn, userWithPassword } from '../identity/identity.test-support.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { manualClock } from '../platform/clock.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let other: PeopleProduct;
let tenant: { id: string; name: string };
let person: { login: string; email: string; password: string };
const ACS = 'https://sp.example/saml/consume';

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  other = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
  person = await userWithPassword(landlord, product, tenant.name, { roles: ['admin'] });
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

async function registerSp(entityId: string, body: Record<string, unknown> = {}) {
  const created = await product.client.post(`/v1/products/${product.name}/saml-providers`, { entityId, acsUrl: ACS, ...body });
  expect(created.status, created.text).toBe(201);
  return created.body.data;
}

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;

/** The signing certificate as an SP reads it from the metadata URL. */
async function metadataCertificate(): Promise<string> {
  const metadata = await new Browser(landlord.url).get(`/saml/${product.name}/metadata`);
  expect(metadata.status).toBe(200);
  expect(metadata.headers['content-type']).toMatch(/samlmetadata\+xml/);
  const body = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata.text)?.[1];
  if (!body) throw new Error('no certificate in the metadata');
  return pem(body);
}

function serviceProvider(entityId: string, config: Partial<SamlConfig>): SAML {
  return new SAML({
    issuer: entityId,
    callbackUrl: ACS,
    entryPoint: `${landlord.url}/saml/${product.name}/sso`,
    audience: entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    idpCert: 'set below',
    ...config,
  } as SamlConfig);
}

/** The form fields of the auto-POST page. */
function postedForm(page: Page) {
  expect(page.status, page.text).toBe(200);
  expect(page.headers['content-security-policy']).toContain('form-action');
  const fields = Object.fromEntries([...page.text.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1], match[2]]));
  expect(page.text).toContain(`action="${ACS}"`);
  return fields as { SAMLResponse: string; RelayState?: string };
}

describe('SAML 2.0 with @node-saml/node-saml as the service provider', () => {
  it('SP-initiated: the response validates with the metadata certificate, InResponseTo and Audience checked', async () => {
    const entityId = 'https://sp.example/metadata/sp-initiated';
    await registerSp(entityId);
    const sp = serviceProvider(entityId, { idpCert: await metadataCertificate(), validateInResponseTo: ValidateInResponseTo.always });
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const start = await sp.getAuthorizeUrlAsync('relay-123', undefined, {});
    const form = postedForm(await browser.follow(await browser.get(start)));
    expect(form.RelayState).toBe('relay-123');
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    const user = await landlord.admin.get(`/v1/tenants/${tenant.name}/users/${person.login}`);
    expect(profile?.nameID).toBe(user.body.data.user?.id ?? user.body.data.userId);
    expect(profile).toMatchObject({
      email: person.email,
      name: 'Sam User',
      login: person.login,
      tenant_uid: tenant.id,
      tenant_name: tenant.name,
      tenant_role: 'admin',
    });
    expect(profile?.authenticated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // The same request again is a replay: a plain page, no assertion.
    const replay = await browser.follow(await browser.get(start));
    expect(replay.status).toBe(400);
    expect(replay.text).not.toContain('SAMLResponse');
  });

  it('IdP-initiated with a signed Response: validates with a SHA-1 fingerprint pin; tampered and expired ones are rejected', async () => {
    const entityId = 'https://sp.example/metadata/pinned';
    await registerSp(entityId, { signResponse: true, attributeMapping: { group_timezone: 'locale', perms: 'tenant.permissions' } });
    const certificates = await product.client.get(`/v1/products/${product.name}/saml-certificates`);
    expect(certificates.status).toBe(200);
    const pinned = certificates.body.data[0].sha1Fingerprint as string;
    expect(pinned).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);

    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const form = postedForm(await browser.get(`/saml/${product.name}/init?sp=${encodeURIComponent(entityId)}&RelayState=home`));
    const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
    // As Maestrano's SDKs do: take the certificate from the response, pin its SHA-1 fingerprint, then verify with it.
    const carried = pem(/<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(xml)?.[1] ?? '');
    const fingerprint = createHash('sha1').update(new X509Certificate(carried).raw).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(fingerprint).toBe(pinned);
    const sp = serviceProvider(entityId, {
      idpCert: carried,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.never,
    });
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    expect(profile?.email).toBe(person.email);

    const tampered = Buffer.from(xml.replace(person.email, 'attacker@example.com'), 'utf8').toString('base64');
    await expect(sp.validatePostResponseAsync({ SAMLResponse: tampered })).rejects.toThrow();

    // A node whose clock is 10 minutes behind issues a response that is expired now.
    const behind = manualClock(new Date(Date.now() - 10 * 60_000));
    const late = await startTestLandlord({ database: landlord.database, clock: behind });
    try {
      const lateBrowser = new Browser(late.url);
      await signIn(lateBrowser, product.name, person.email, person.password);
      const old = postedForm(await lateBrowser.get(`/saml/${product.name}/init?sp=${encodeURIComponent(entityId)}`));
      await expect(sp.validatePostResponseAsync({ SAMLResponse: old.SAMLResponse })).rejects.toThrow(/expired|NotOnOrAfter/i);
    } finally {
      await late.close();
    }
  });

  it('answers an unknown SP, a foreign ACS URL and a malformed request with a plain page, never an assertion', async () => {
    const entityId = 'https://sp.example/metadata/refusals';
    await registerSp(entityId);
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const request = (issuer: string, acs: string) =>
      deflateRawSync(
        `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${Date.now()}${Math.random().toString(36).slice(2)}" Version="2.0" IssueInstant="${new Date().toISOString()}" AssertionConsumerServiceURL="${acs}"><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`,
      ).toString('base64');
    const sso = async (samlRequest: string) =>
      browser.follow(await browser.get(`/saml/${product.name}/sso?SAMLRequest=${encodeURIComponent(samlRequest)}`));
    for (const [what, samlRequest] of [
      ['unknown SP', request('https://unknown.example', ACS)],
      ['foreign ACS', request(entityId, 'https://evil.example/acs')],
      ['not deflated', Buffer.from('<xml/>').toString('base64')],
      ['not a request', deflateRawSync('<foo/>').toString('base64')],
      ['a DOCTYPE', deflateRawSync('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>').toString('base64')],
    ] as const) {
      const page = await sso(samlRequest);
      expect(page.status, what).toBe(400);
      expect(page.text, what).not.toContain('SAMLResponse');
    }
    const accepted = await sso(request(entityId, ACS));
    expect(accepted.text, `${accepted.status} ${accepted.location}`).toContain('SAMLResponse');
  });
});

describe('SAML service provider and certificate routes', () => {
  it('create, list, get, delete; a duplicate entity id (409), an unknown source (400); another product’s credential gets 404', async () => {
    const entityId = `https://sp.example/metadata/${Date.now()}`;
    const created = await registerSp(entityId, { nameIdFormat: 'emailAddress' });
    expect(created).toMatchObject({ entityId, acsUrl: ACS, nameIdFormat: 'emailAddress', signResponse: false });
    const again = await product.client.post(`/v1/products/${product.name}/saml-providers`, { entityId, acsUrl: ACS });
    expect(again.status).toBe(409);
    expect(again.body.metadata.errors[0]).toMatchObject({ code: 'saml_provider.entity_id_taken', parameter: 'entityId' });
    const badSource = await product.client.post(`/v1/products/${product.name}/saml-providers`, {
      entityId: `${entityId}/2`,
      acsUrl: ACS,
      attributeMapping: { x: 'password' },
    });
    expect(badSource.status).toBe(400);
    expect(badSource.body.metadata.errors[0].parameter).toBe('attributeMapping.x');
    const badAcs = await product.client.post(`/v1/products/${product.name}/saml-providers`, {
      entityId: `${entityId}/3`,
      acsUrl: 'javascript:alert(1)',
    });
    expect(badAcs.status).toBe(400);

    const list = await product.client.get(`/v1/products/${product.name}/saml-providers`);
    expect(list.body.data.map((one: { entityId: string }) => one.entityId)).toContain(entityId);
    expect((await product.client.get(`/v1/products/${product.name}/saml-providers/${created.id}`)).status).toBe(200);
    expect((await other.client.get(`/v1/products/${product.name}/saml-providers/${created.id}`)).status).toBe(404);
    expect((await other.client.get(`/v1/products/${product.name}/saml-providers`)).status).toBe(404);
    expect((await other.client.post(`/v1/products/${product.name}/saml-providers`, { entityId: 'x', acsUrl: ACS })).status).toBe(404);
    expect((await other.client.get(`/v1/products/${product.name}/saml-certificates`)).status).toBe(404);
    expect((await other.client.delete(`/v1/products/${product.name}/saml-providers/${created.id}`)).status).toBe(404);
    expect((await landlord.as(undefined).get(`/v1/products/${product.name}/saml-providers`)).status).toBe(401);
    const removed = await product.client.delete(`/v1/products/${product.name}/saml-providers/${created.id}`);
    expect(removed.body.data).toEqual({ id: created.id, deleted: true });
    expect((await product.client.get(`/v1/products/${product.name}/saml-providers/${created.id}`)).status).toBe(404);
  });

  it('rotates the signing certificate: a new fingerprint signs, and the metadata carries both', async () => {
    const before = (await product.client.get(`/v1/products/${product.name}/saml-certificates`)).body.data;
    expect((await product.client.post(`/v1/products/${product.name}/saml-certificates/rotate`)).status).toBe(403);
    const rotated = await landlord.admin.post(`/v1/products/${product.name}/saml-certificates/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data[0].sha1Fingerprint).not.toBe(before[0].sha1Fingerprint);
    expect(rotated.body.data[0].signing).toBe(true);
    expect(rotated.body.data[1]).toMatchObject({ sha1Fingerprint: before[0].sha1Fingerprint, signing: false });
    const metadata = await new Browser(landlord.url).get(`/saml/${product.name}/metadata`);
    expect([...metadata.text.matchAll(/<ds:X509Certificate>/g)]).toHaveLength(2);
  });
});
