import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from '../../test/helpers/backend-simulator.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { liveTenant, type PeopleProduct, peopleProduct } from '../people/people.test-support.ts';
import { actionOf, Browser, csrfOf, signIn, userWithPassword } from './identity.test-support.ts';

let landlord: TestLandlord;
let backend: BackendSimulator;
let product: PeopleProduct;
let tenant: { id: string; name: string };

beforeAll(async () => {
  landlord = await startTestLandlord();
  backend = await startBackendSimulator();
  product = await peopleProduct(landlord, backend.url);
  tenant = await liveTenant(landlord, product.name);
});
afterAll(async () => {
  await landlord?.close();
  await backend?.close();
});

describe('signing in with e-mail and password', () => {
  it('starts an HttpOnly, SameSite=Lax session and shows the account page', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const browser = new Browser(landlord.url);
    const answer = await signIn(browser, product.name, person.email, person.password);
    expect(answer.status, answer.text).toBe(303);
    expect(answer.location).toBe(`/account/${product.name}`);
    const cookie = [answer.headers['set-cookie']].flat().find((line) => line?.startsWith('landlord_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const account = await browser.follow(answer);
    expect(account.status).toBe(200);
    expect(account.text).toContain(person.email);
    expect(account.headers['content-security-policy']).toMatch(/default-src 'none'/);
  });

  it('answers a wrong password and an unknown e-mail alike (401)', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const wrong = await signIn(new Browser(landlord.url), product.name, person.email, 'not the password');
    const unknown = await signIn(new Browser(landlord.url), product.name, 'nobody-here@example.com', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (text: string) => /role="alert"[^>]*>([^<]+)</.exec(text)?.[1];
    expect(message(wrong.text)).toBe(message(unknown.text));
    expect(wrong.text).not.toContain('not the password');
  });

  it('refuses a form without its CSRF token', async () => {
    const browser = new Browser(landlord.url);
    const form = await browser.get(`/signin/${product.name}`);
    const forged = await browser.post(actionOf(form), { _csrf: `${csrfOf(form)}x`, email: 'a@example.com', password: 'whatever-123' });
    expect(forged.status).toBe(403);
  });

  it('marks its cookies Secure behind an https LANDLORD_PUBLIC_URL', async () => {
    const person = await userWithPassword(landlord, product, tenant.name);
    const secure = await startTestLandlord({ database: landlord.database, env: { LANDLORD_PUBLIC_URL: 'https://id.example.com' } });
    try {
      const browser = new Browser(secure.url);
      const answer = await signIn(browser, product.name, person.email, person.password);
      expect(answer.status).toBe(303);
      const cookies = [answer.headers['set-cookie']].flat().filter(Boolean);
      expect(cookies.find((line) => line?.startsWith('landlord_session='))).toMatch(/; Secure/);
    } finally {
      await secure.close();
    }
  });
});
