import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request the simulated backend received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

/** How the backend answers one request. */
export interface Behaviour {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (beyond the caller's timeout = a timeout). */
  delayMs?: number;
  /** Drop the connection without an answer. */
  hangUp?: boolean;
  /** Runs before the answer is sent (e.g. report to Landlord first, as some backends do). */
  before?: (request: RecordedRequest) => Promise<void>;
  /** Runs after the answer is sent (e.g. report to Landlord afterwards). */
  after?: (request: RecordedRequest) => Promise<void>;
}

/** A real HTTP server on loopback standing in for a product's backend. */
export interface BackendSimulator {
  url: string;
  requests: RecordedRequest[];
  /** Sets how requests are answered from now on (default: 200 `{}`). */
  behave(decide: (request: RecordedRequest) => Behaviour | Promise<Behaviour>): void;
  /** Resolves with the first recorded request matching `match`, waiting up to `timeoutMs`. */
  waitFor(match: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Stops listening: calls now meet "connection refused". */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a simulated backend on 127.0.0.1 (a free port, or `port`). */
export async function startBackendSimulator(port = 0): Promise<BackendSimulator> {
  const requests: RecordedRequest[] = [];
  let decide: (request: RecordedRequest) => Behaviour | Promise<Behaviour> = () => ({ status: 200, body: {} });
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
    requests.push(recorded);
    const behaviour = await decide(recorded);
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    await behaviour.before?.(recorded);
    if (behaviour.hangUp) {
      req.socket.destroy();
      return;
    }
    if (res.destroyed) return;
    res.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json', ...behaviour.headers });
    res.end(JSON.stringify(behaviour.body ?? {}));
    await behaviour.after?.(recorded);
  };

  let server: Server;
  const listen = async (onPort: number) => {
    server = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(onPort, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  const boundPort = await listen(port);
  return {
    url: `http://127.0.0.1:${boundPort}`,
    requests,
    behave: (next) => {
      decide = next;
    },
    waitFor: async (match, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = requests.find(match);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`the backend received no matching request within ${timeoutMs} ms (got ${requests.length})`);
    },
    down: stop,
    up: async () => {
      await listen(boundPort);
    },
    close: stop,
  };
}

/**
 * Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`.
 * The default is for "it happens", not "it happens fast": 20 s holds on a loaded two-core machine
 * (10 s did not, with several test files each running Landlord nodes); a test that promises a time
 * passes its own bound.
 */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
