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
