import { createHash, X509Certificate } from 'node:crypto';
import { SAML, type SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { actionOf, Browser, csrfOf, type Page, signIn } from '../identity/identity.test-support.ts';
import { liveTenant, type PeopleProduct, peopleProduct, waitForStatus } from '../people/people.test-support.ts';
import {
  addUser,
  basicClient,
  type CreatedMarketplace,
  createGroup,
  createMarketplace,
  documentMarketplace,
} from './marketplaces.test-support.ts';

// SP-initiated SSO as Maestrano's SDKs do it, with @node-saml/node-saml as the app: configured
// from the configuration endpoint (certificate and SHA-1 fingerprint), signed assertion required.

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let marketplace: CreatedMarketplace;
let other: CreatedMarketplace;
let groups: { uid: string; tenant: { id: string; name: string } }[];
let person: { uid: string; email: string; password: string };
// Tenants of the same product that are not this marketplace's groups: another marketplace's group, a tenant of its own.
let foreign: { uid: string; tenant: { id: string; name: string } };
let direct: { id: string; name: string };
let configuration: { api: { id: string }; sso: { idm: string; consume_path: string; x509_certificate: string; x509_fingerprint: string } };

async function setPassword(tenantName: string, login: string, password: string) {
  const link = await landlord.admin.post(`/v1/tenants/${tenantName}/users/${encodeURIComponent(login)}/password-links`, {});
  expect(link.status, link.text).toBe(201);
  const browser = new Browser(landlord.url);
  const form = await browser.get(link.body.data.url);
  const set = await browser.post(actionOf(form), { _csrf: csrfOf(form), password });
  expect(set.status, set.text).toBe(303);
}

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  marketplace = await createMarketplace(landlord, product.name, documentMarketplace(backend.url));
  other = await createMarketplace(landlord, product.name, documentMarketplace(backend.url, 'some-telco'));
  groups = [
    await createGroup(landlord, marketplace.id, { name: 'Sales' }),
    await createGroup(landlord, marketplace.id, { name: 'Support' }),
  ];
  for (const group of groups) await waitForStatus(landlord, group.tenant.name, 'created_as_active');
  const email = `${uniqueName('john')}@example.com`;
  const first = await addUser(landlord, marketplace.id, groups[0]?.uid as string, { email, role: 'Admin' });
  await addUser(landlord, marketplace.id, groups[1]?.uid as string, { email, role: 'Member' });
  person = { uid: first.uid, email, password: `pw-${uniqueName('x')}-secret!` };
  await setPassword(groups[0]?.tenant.name as string, email.toLowerCase(), person.password);
  foreign = await createGroup(landlord, other.id, { name: 'Elsewhere' });
  direct = await liveTenant(landlord, product.name);
  await waitForStatus(landlord, foreign.tenant.name, 'created_as_active');
  await addUser(landlord, other.id, foreign.uid, { email, role: 'Member' });
  const joined = await landlord.admin.post(`/v1/tenants/${direct.name}/users`, { email, login: 'direct' });
  expect(joined.status, joined.text).toBe(201);
  const { key, secret } = marketplace.environment as { key: string; secret: string };
  const config = await basicClient(landlord.url, key, secret).get('/api/config/v1/marketplaces');
  configuration = config.body.marketplaces.find((entry: { marketplace: string }) => entry.marketplace === 'maestrano');
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

/** The app's SAML service provider, configured as the SDKs configure it from the configuration endpoint. */
function app(extra: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    issuer: configuration.api.id,
    callbackUrl: `${configuration.sso.idm}${configuration.sso.consume_path}`,
    entryPoint: `${landlord.url}/api/v1/auth/saml`,
    audience: configuration.api.id,
    idpCert: configuration.sso.x509_certificate,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    validateInResponseTo: ValidateInResponseTo.always,
    ...extra,
  } as SamlConfig);
}

function postedForm(page: Page) {
  expect(page.status, page.text).toBe(200);
  expect(page.text).toContain(`action="${configuration.sso.idm}${configuration.sso.consume_path}"`);
  return Object.fromEntries([...page.text.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1], match[2]])) as {
    SAMLResponse: string;
  };
}

describe('Maestrano SSO', () => {
  it('signs the member in with the Maestrano attributes; the certificate in the response matches the configured fingerprint; the session re-check follows the Landlord session', async () => {
    const sp = app({ additionalAuthorizeParams: { group_id: groups[0]?.uid as string } });
    const browser = new Browser(landlord.url);
    const start = await sp.getAuthorizeUrlAsync('', undefined, {});
    // Not signed in yet: the sign-in page first, then back to the request.
    const pending = await browser.get(start);
    expect(pending.status).toBe(303);
    const toSignIn = await browser.get(String(pending.headers.location));
    expect(toSignIn.status).toBe(303);
    expect(String(toSignIn.headers.location)).toMatch(/^\/signin\//);
    const signedIn = await signIn(
      browser,
      product.name,
      person.email,
      person.password,
      String(toSignIn.headers.location).replace(/^[^?]*/, ''),
    );
    const form = postedForm(await browser.follow(signedIn));
    const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
    const carried = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(xml)?.[1] ?? '';
    const der = new X509Certificate(`-----BEGIN CERTIFICATE-----\n${carried}\n-----END CERTIFICATE-----\n`).raw;
    const fingerprint = createHash('sha1').update(der).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(fingerprint).toBe(configuration.sso.x509_fingerprint);

    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    expect(profile?.nameID).toBe(person.uid);
    expect(profile?.nameIDFormat).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    expect(profile).toMatchObject({
      uid: person.uid,
      virtual_uid: `${person.uid}.${groups[0]?.uid}`,
      email: person.email,
      name: 'John',
      surname: 'Doe',
      country: 'AU',
      company_name: 'Sales',
      group_uid: groups[0]?.uid,
      group_name: 'Sales',
      group_role: 'Admin',
      group_has_credit_card: 'true',
      group_email: 'cld@example.com',
      group_currency: 'AUD',
      group_timezone: 'America/Los_Angeles',
      group_country: 'US',
      group_city: 'Los Angeles',
    });
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
    expect(profile?.group_end_free_trial).toMatch(iso);
    expect(profile?.mno_session_recheck).toMatch(iso);
    expect(String(profile?.virtual_email)).toMatch(new RegExp(`^${person.uid}\\.${groups[0]?.uid}@`));

    const check = (uid: string) => apiClient(landlord.url).get(`/api/v1/auth/saml/${uid}?session=${profile?.mno_session}`);
    const live = await check(person.uid);
    expect(live.status).toBe(200);
    expect(live.body.valid).toBe(true);
    expect(live.body.recheck).toMatch(iso);
    expect((await check('usr-999999999')).body.valid).toBe(false);

    const account = await browser.get(`/account/${product.name}`);
    expect((await browser.post(`/signout/${product.name}`, { _csrf: csrfOf(account) })).status).toBe(200);
    expect((await check(person.uid)).body.valid).toBe(false);
  });

  it('a member of several groups picks one of this marketplace’s groups when the request names none (no other tenant is offered)', async () => {
    const sp = app();
    const browser = new Browser(landlord.url);
    await signIn(browser, product.name, person.email, person.password);
    const chooser = await browser.follow(await browser.get(await sp.getAuthorizeUrlAsync('', undefined, {})));
    expect(chooser.status, chooser.text).toBe(200);
    const offered = [...chooser.text.matchAll(/name="tenant" value="([^"]+)"/g)].map((match) => match[1]);
    expect(offered.sort()).toEqual([groups[0]?.tenant.name, groups[1]?.tenant.name].sort());
    const chosen = await browser.post(actionOf(chooser), { _csrf: csrfOf(chooser), tenant: groups[1]?.tenant.name as string });
    expect(chosen.status, chosen.text).toBe(303);
    const form = postedForm(await browser.follow(chosen));
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    expect(profile).toMatchObject({ group_uid: groups[1]?.uid, group_name: 'Support', group_role: 'Member' });
  });

  it('a member of one group of this marketplace and of other tenants is signed in to that group without a chooser, even when the session chose another tenant', async () => {
    const email = `${uniqueName('jane')}@example.com`;
    const member = await addUser(landlord, marketplace.id, groups[0]?.uid as string, { email, name: 'Jane', role: 'Member' });
    await addUser(landlord, other.id, foreign.uid, { email, role: 'Admin' });
    const joined = await landlord.admin.post(`/v1/tenants/${direct.name}/users`, { email, login: 'jane' });
    expect(joined.status, joined.text).toBe(201);
    const password = `pw-${uniqueName('y')}-secret!`;
    await setPassword(groups[0]?.tenant.name as string, email.toLowerCase(), password);
    const browser = new Browser(landlord.url);
    // Signed in to the product on its own, Jane chooses her own tenant: the session remembers it.
    const chooser = await browser.follow(await signIn(browser, product.name, email, password));
    const offered = [...chooser.text.matchAll(/name="tenant" value="([^"]+)"/g)].map((match) => match[1]);
    expect(offered).toHaveLength(3);
    expect((await browser.post(actionOf(chooser), { _csrf: csrfOf(chooser), tenant: direct.name })).status).toBe(303);

    const sp = app();
    const form = postedForm(await browser.follow(await browser.get(await sp.getAuthorizeUrlAsync('', undefined, {}))));
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    expect(profile).toMatchObject({ uid: member.uid, group_uid: groups[0]?.uid, group_name: 'Sales', group_role: 'Member' });
  });

  it('refuses a request from an unknown app, and one whose ACS is not the configured one', async () => {
    const browser = new Browser(landlord.url);
    const unknown = await browser.get(await app({ issuer: 'app-unknown' }).getAuthorizeUrlAsync('', undefined, {}));
    expect(unknown.status).toBe(400);
    const foreignAcs = await browser.get(
      await app({ callbackUrl: 'https://evil.example/consume' }).getAuthorizeUrlAsync('', undefined, {}),
    );
    expect(foreignAcs.status).toBe(400);
    expect(foreignAcs.text).not.toContain('SAMLResponse');
    // The other marketplace's app is known, but this person has no group there.
    expect(other.apiId).not.toBe(configuration.api.id);
  });
});
