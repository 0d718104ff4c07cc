import { request } from 'undici';
import { expect } from 'vitest';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import type { TestLandlord } from '../../test/helpers/landlord.ts';
import type { PeopleProduct } from '../people/people.test-support.ts';

/** One answer as a browser test looks at it. */
export interface Page {
  status: number;
  location: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A browser without a browser: real HTTP over loopback, a cookie jar per origin, no
 * scripts. Redirects are followed only when asked (`follow`), so tests see each hop.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  private absolute(url: string): string {
    return url.startsWith('http') ? url : `${this.baseUrl}${url}`;
  }

  async send(method: string, url: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const target = this.absolute(url);
    const sameOrigin = target.startsWith(this.baseUrl);
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await request(target, {
      method: method as 'GET',
      headers: {
        ...(sameOrigin && cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        'user-agent': 'identity-test-browser',
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const setCookie = response.headers['set-cookie'];
    if (sameOrigin) {
      for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
        const [pair] = line.split(';');
        const [name, ...value] = (pair ?? '').split('=');
        if (!name) continue;
        if (/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
        else this.cookies.set(name, value.join('='));
      }
    }
    return {
      status: response.statusCode,
      location: response.headers.location as string | undefined,
      headers: response.headers,
      text: await response.body.text(),
    };
  }

  get(url: string) {
    return this.send('GET', url);
  }
  post(url: string, form: Record<string, string>) {
    return this.send('POST', url, form);
  }

  /** Follows redirects from `page` while they stay on Landlord (at most 10 hops). */
  async follow(page: Page): Promise<Page> {
    let current = page;
    for (let hop = 0; hop < 10 && current.location && current.status >= 300 && current.status < 400; hop++) {
      const next = new URL(current.location, this.baseUrl).href;
      if (!next.startsWith(this.baseUrl)) return current;
      current = await this.get(next);
    }
    return current;
  }
}

/** The CSRF token in a page's form. */
export function csrfOf(page: Page): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error(`no CSRF field in the page (${page.status}): ${page.text.slice(0, 300)}`);
  return match[1];
}

/** A form's action in a page. */
export function actionOf(page: Page, index = 0): string {
  const actions = [...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((match) => match[1]?.replace(/&amp;/g, '&'));
  const action = actions[index];
  if (!action) throw new Error(`no form ${index} in the page: ${page.text.slice(0, 300)}`);
  return action;
}

/** Adds an accepted user with a password to a tenant; returns login, e-mail and password. */
export async function userWithPassword(
  landlord: TestLandlord,
  product: PeopleProduct,
  tenantName: string,
  options: { email?: string; roles?: string[]; permissions?: string[]; password?: string } = {},
) {
  const login = uniqueName('u');
  const email = options.email ?? `${login}@example.com`;
  const password = options.password ?? `pw-${login}-secret!`;
  const added = await product.client.post(`/v1/tenants/${tenantName}/users`, {
    email,
    login,
    roles: options.roles ?? ['member'],
    permissions: options.permissions ?? [],
  });
  expect(added.status, added.text).toBe(201);
  if (added.body.data.invitation) {
    const accepted = await landlord
      .as(undefined)
      .post('/v1/invitations/accept', { token: added.body.data.invitation.token, fullName: 'Sam User' });
    expect(accepted.status, accepted.text).toBe(200);
  }
  const link = await product.client.post(`/v1/tenants/${tenantName}/users/${login}/password-links`, {});
  expect(link.status, link.text).toBe(201);
  const browser = new Browser(landlord.url);
  const form = await browser.get(link.body.data.url);
  expect(form.status, form.text).toBe(200);
  const set = await browser.post(actionOf(form), { _csrf: csrfOf(form), password });
  expect(set.status, set.text).toBe(303);
  return { login, email, password };
}

/** Signs a browser in on a product's sign-in page; returns the answer to the form. */
export async function signIn(browser: Browser, productName: string, email: string, password: string, query = ''): Promise<Page> {
  const form = await browser.get(`/signin/${productName}${query}`);
  expect(form.status, form.text).toBe(200);
  return browser.post(actionOf(form), { _csrf: csrfOf(form), email, password });
}
