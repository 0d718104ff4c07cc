/**
 * A product backend integrated with Landlord the RoSaaS way, in one file with no
 * dependencies: it implements the endpoints Landlord calls, and reports each
 * outcome back through Landlord's RoSaaS-compatible External System API.
 *
 *   LANDLORD_URL=http://127.0.0.1:8080 CLIENT_ID=cl_… CLIENT_SECRET=llcs_… API_KEY=… \
 *     node examples/rosaas-backend.ts
 *
 * See "Integrating your product's backend" in README.md for the whole walk-through.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** How the example backend reaches Landlord and proves Landlord is calling it. */
export interface ExampleBackendOptions {
  landlordUrl: string;
  clientId: string;
  clientSecret: string;
  /** The `apiKey` set on the product in Landlord: every call from Landlord carries it. */
  apiKey: string;
  port?: number;
}

/** What Landlord's event becomes in the report that completes it: a lifecycle step, or a plan change confirmed. */
const REPORT_FOR: Record<string, string> = {
  creation: 'created',
  activation: 'active',
  deactivation: 'inactive',
  deletion: 'deleted',
  upgrade: 'subscription/upgrade',
  downgrade: 'subscription/downgrade',
  reset: 'subscription/reset',
};

/** Starts the example backend; resolves with its server once it listens on 127.0.0.1. */
export async function startExampleBackend(options: ExampleBackendOptions): Promise<Server> {
  const tenants = new Map<string, 'active' | 'inactive'>();
  let token: { value: string; expires: number } | undefined;

  // Client credentials → bearer token, renewed a minute before it expires.
  async function accessToken(): Promise<string> {
    if (token && token.expires > Date.now() + 60_000) return token.value;
    const response = await fetch(`${options.landlordUrl}/api/identity/apps/v1/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: options.clientId, clientSecret: options.clientSecret }),
    });
    const body = (await response.json()) as { data: { token: { accessToken: string; expiresIn: number } } };
    token = { value: body.data.token.accessToken, expires: Date.now() + body.data.token.expiresIn * 1000 };
    return token.value;
  }

  // Tell Landlord how a step ended: POST /api/management/apps/v1/tenants/{name}/{created|active|inactive|deleted|failure},
  // or that a plan change is provisioned: …/{name}/subscription/{upgrade|downgrade|reset} (`/failure` appended if not).
  async function report(name: string, outcome: string, details?: unknown): Promise<void> {
    await fetch(`${options.landlordUrl}/api/management/apps/v1/tenants/${encodeURIComponent(name)}/${outcome}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(details ?? {}),
    });
  }

  // The real work of each step; here it only remembers the tenant (a plan change needs nothing more).
  async function provision(event: string, name: string): Promise<void> {
    if (event === 'creation' || event === 'activation') tenants.set(name, 'active');
    if (event === 'deactivation') tenants.set(name, 'inactive');
    if (event === 'deletion') tenants.delete(name);
  }

  const server = createServer(async (request, response) => {
    const send = (status: number, body: unknown = {}) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.headers['api-key'] !== options.apiKey) return send(401, { error: 'wrong api-key' });

    // GET /api/integration/{name}/health-status — Landlord's health check.
    const health = /^\/api\/integration\/([^/]+)\/health-status$/.exec(request.url ?? '');
    if (request.method === 'GET' && health) return send(tenants.get(decodeURIComponent(health[1] ?? '')) ? 200 : 404);

    // POST /api/integration/{name}/{event} with {"tenantName": …}: creation, activation, deactivation, deletion, unavailable,
    // and the plan changes upgrade, downgrade, reset (with {"change": …} too).
    const event = /^\/api\/integration\/([^/]+)\/([a-z]+)$/.exec(request.url ?? '');
    if (request.method !== 'POST' || !event) return send(404);
    const body = JSON.parse((await readBody(request)) || '{}') as { tenantName?: string };
    const name = body.tenantName ?? decodeURIComponent(event[1] ?? '');
    const kind = event[2] ?? '';
    // Answer at once ("started"); the outcome is reported when the work is done (callback mode).
    send(200, { accepted: true });
    const outcome = REPORT_FOR[kind];
    if (!outcome) return; // e.g. "unavailable": a notice, nothing to report
    try {
      await provision(kind, name);
      await report(name, outcome);
    } catch (error) {
      const failure = outcome.startsWith('subscription/') ? `${outcome}/failure` : 'failure';
      await report(name, failure, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 4000, '127.0.0.1', resolve));
  return server;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

if (import.meta.main) {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`Set ${name}`);
    return value;
  };
  const server = await startExampleBackend({
    landlordUrl: env('LANDLORD_URL'),
    clientId: env('CLIENT_ID'),
    clientSecret: env('CLIENT_SECRET'),
    apiKey: env('API_KEY'),
    port: Number(process.env.PORT ?? 4000),
  });
  console.log(`Example backend listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
}
