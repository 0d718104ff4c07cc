import { request } from 'undici';
import { agent } from './landlord.ts';

/**
 * A cookie jar over undici for the bench's sign-ins: follows Landlord's redirects hop by
 * hop and stops at the first one that leaves it (the relying party's callback).
 */
export class BenchBrowser {
  private readonly cookies = new Map<string, string>();
  private readonly base: string;
  constructor(base: string, seed: Record<string, string> = {}) {
    this.base = base;
    for (const [name, value] of Object.entries(seed)) this.cookies.set(name, value);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** GETs `url` and follows redirects within Landlord (at most 10); returns the last status and location. */
  async visit(url: string): Promise<{ status: number; location?: string }> {
    let target = url;
    for (let hop = 0; hop < 10; hop++) {
      const response = await request(target, {
        dispatcher: agent,
        headers: { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      });
      await response.body.dump();
      const setCookie = response.headers['set-cookie'];
      for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
        const [pair] = line.split(';');
        const [name, ...value] = (pair ?? '').split('=');
        if (name) this.cookies.set(name, value.join('='));
      }
      const location = response.headers.location as string | undefined;
      if (response.statusCode < 300 || response.statusCode >= 400 || !location) return { status: response.statusCode, location };
      const next = new URL(location, this.base).href;
      if (!next.startsWith(this.base)) return { status: response.statusCode, location: next };
      target = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
