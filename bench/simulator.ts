/**
 * A lean product backend on loopback, run as its own process (PORT). Every
 * `POST /api/integration/{name}/{event}` is answered 200 at once and its arrival time
 * kept; once told where Landlord is (`POST /_bench/config`), each creation call is
 * followed at once by the report `POST /api/management/apps/v1/tenants/{name}/created`
 * with the client token it was given, as a RoSaaS backend in callback mode does.
 *
 * Control: `GET /_bench/count`, `GET /_bench/stats` (arrivals of creation calls), `POST /_bench/reset`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

interface Config {
  landlordUrl: string | null;
  token: string | null;
}

let config: Config = { landlordUrl: null, token: null };
// Name → arrival time (ms since the epoch) of the first creation call for it.
let arrivals = new Map<string, number>();
let calls = 0;
let reportsOk = 0;
let reportsFailed = 0;
let lastReportError = '';
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, pipelining: 1 });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reports the creation done; a failed report is tried again a few times, as a backend would. */
async function reportCreated(name: string): Promise<void> {
  const { landlordUrl, token } = config;
  if (!landlordUrl || !token) return;
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      const response = await request(`${landlordUrl}/api/management/apps/v1/tenants/${encodeURIComponent(name)}/created`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const text = await response.body.text();
      if (response.statusCode === 200) {
        reportsOk++;
        return;
      }
      lastReportError = `${response.statusCode} ${text.slice(0, 300)}`;
    } catch (error) {
      lastReportError = String(error);
    }
    await sleep(50 * attempt);
  }
  reportsFailed++;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const at = Date.now();
  const url = req.url ?? '/';
  if (url.startsWith('/_bench/')) {
    const body = await readBody(req);
    if (url === '/_bench/count') return json(res, 200, { arrivals: arrivals.size, calls, reportsOk, reportsFailed });
    if (url === '/_bench/stats') {
      return json(res, 200, { arrivals: [...arrivals], calls, reportsOk, reportsFailed, lastReportError });
    }
    if (url === '/_bench/config' && req.method === 'POST') {
      config = { landlordUrl: null, token: null, ...JSON.parse(body) };
      return json(res, 200, {});
    }
    if (url === '/_bench/reset' && req.method === 'POST') {
      arrivals = new Map();
      calls = reportsOk = reportsFailed = 0;
      lastReportError = '';
      return json(res, 200, {});
    }
    return json(res, 404, {});
  }
  // /api/integration/{name}/{event}
  const [, , , rawName, event] = url.split('/');
  await readBody(req);
  calls++;
  const name = decodeURIComponent(rawName ?? '');
  if (event === 'creation' && !arrivals.has(name)) arrivals.set(name, at);
  json(res, 200, {});
  if (event === 'creation') await reportCreated(name);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) json(res, 500, { error: String(error) });
  });
});
server.keepAliveTimeout = 30_000;

const stop = () => {
  server.close();
  agent.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write('simulator ready\n'));
