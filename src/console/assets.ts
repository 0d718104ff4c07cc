import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

interface Asset {
  path: string;
  type: string;
  body: Buffer;
}

function asset(name: string, file: string, type: string): Asset {
  const body = readFileSync(file);
  // The content's hash is in the URL, so the browser may keep it for a year: a new build is a new URL.
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = name.lastIndexOf('.');
  return { path: `/console/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`, type, body };
}

/** The console's static files: its stylesheet and htmx (the pinned npm dependency, read from node_modules). */
export const ASSETS = {
  css: asset('console.css', new URL('./assets/console.css', import.meta.url).pathname, 'text/css; charset=utf-8'),
  htmx: asset('htmx.min.js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'),
} as const;

/** Serves the assets with a long, immutable cache header (their URLs change with their content). */
export function registerAssets(scope: FastifyInstance): void {
  for (const file of Object.values(ASSETS)) {
    scope.get(file.path, { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .headers({
          'content-type': file.type,
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
        })
        .send(file.body),
    );
  }
}
