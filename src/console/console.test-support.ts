import { createProduct } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { Browser, csrfOf, type Page } from '../identity/identity.test-support.ts';

/** A signed-in console browser (no scripts): GETs pages, POSTs forms with the page's CSRF token and the right Origin. */
export interface ConsoleSession {
  browser: Browser;
  get(path: string): Promise<Page>;
  /** Posts a form as the console's own pages do: Origin and CSRF token included unless overridden. */
  post(path: string, form?: Record<string, string>, headers?: Record<string, string>): Promise<Page>;
  csrf: string;
}

/** Signs in to the console with an operator key, through the sign-in form, and returns the session. */
export async function signInToConsole(baseUrl: string, key: string): Promise<ConsoleSession> {
  const browser = new Browser(baseUrl);
  const origin = new URL(baseUrl).origin;
  const form = await browser.get('/console/signin');
  const signedIn = await browser.send('POST', '/console/signin', { _csrf: csrfOf(form), key }, { origin });
  if (signedIn.status !== 303) throw new Error(`console sign-in failed: ${signedIn.status} ${signedIn.text.slice(0, 300)}`);
  const overview = await browser.get('/console');
  if (overview.status !== 200) throw new Error(`console overview: ${overview.status}`);
  const csrf = csrfOf(overview);
  return {
    browser,
    csrf,
    get: (path) => browser.get(path),
    post: (path, fields = {}, headers = {}) => browser.send('POST', path, { _csrf: csrf, ...fields }, { origin, ...headers }),
  };
}

/** What the console suites start from: a Landlord, two products, and its super admin signed in to the console. */
export interface ConsoleWorld {
  landlord: TestLandlord;
  admin: ConsoleSession;
  product: { id: string; name: string };
  /** A second product, to prove scoping. */
  other: { id: string; name: string };
}

/**
 * Starts a test Landlord with two products that send no creation by themselves and signs the super admin in.
 * The Landlord is closed again if anything after its start fails, so a failed setup leaves nothing running.
 */
export async function startConsoleWorld(): Promise<ConsoleWorld> {
  const landlord = await startTestLandlord();
  try {
    const product = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
    const other = await createProduct(landlord.admin, { provisioning: { autoSendCreation: false } });
    const admin = await signInToConsole(landlord.url, TEST_ADMIN_KEY);
    return { landlord, admin, product, other };
  } catch (error) {
    await landlord.close();
    throw error;
  }
}
