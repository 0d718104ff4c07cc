import type { RouteOptions } from 'fastify';
import type { HttpApp } from '../http/types.ts';

interface ObjectSchema {
  properties?: Record<string, unknown>;
  required?: string[];
}

/** The parts of a route schema the document uses. */
interface RouteSchema {
  tags?: string[];
  summary?: string;
  description?: string;
  params?: ObjectSchema;
  querystring?: ObjectSchema;
  body?: unknown;
  response?: Record<string, unknown>;
}

/** What the reseller API document is built from: each route's method, URL and schema. */
export interface DocumentedRoute {
  method: string;
  url: string;
  schema: RouteSchema;
}

/** Collects the routes of the reseller scope as they are registered. */
export function documentedRoute(route: RouteOptions): DocumentedRoute[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods
    .filter((method) => method !== 'HEAD')
    .map((method) => ({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as RouteSchema }));
}

// JSON Schema → OpenAPI parameters, one per property of a params or querystring schema.
function parameters(schema: ObjectSchema | undefined, where: 'path' | 'query') {
  const required = new Set<string>(schema?.required ?? []);
  return Object.entries(schema?.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}

/**
 * The reseller API's own OpenAPI 3.1 document: it speaks Sharespine's shapes and its own
 * authentication, so it is kept out of the native document and published on its own.
 */
export function resellerDocument(routes: readonly DocumentedRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const { schema } = route;
    paths[path] ??= {};
    paths[path][route.method] = {
      tags: schema.tags,
      summary: schema.summary,
      description: schema.description,
      parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')],
      ...(schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } } : {}),
      responses: Object.fromEntries(
        Object.entries<unknown>(schema.response ?? {}).map(([status, body]) => [
          status,
          {
            description: Number(status) < 400 ? 'Success' : 'Error: `{ "message": … }`',
            content: { 'application/json': { schema: body } },
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Landlord reseller API',
      version: '1',
      description:
        'Sharespine-compatible: every request sends HTTP Basic `username:password` and `X-Reseller: <code>`. A reseller sees only the tenants it created.',
    },
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        reseller: { type: 'apiKey', in: 'header', name: 'X-Reseller' },
      },
    },
    security: [{ basic: [], reseller: [] }],
    paths,
  };
}

/** Serves the reseller API document at `/reseller/openapi.json`, without a credential. */
export function registerResellerDocument(app: HttpApp, routes: readonly DocumentedRoute[]): void {
  let document: ReturnType<typeof resellerDocument> | undefined;
  app.get('/reseller/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => {
    // Built on first use: every route is registered by then.
    document ??= resellerDocument(routes);
    return document;
  });
}
