import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook delivery the receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP server on loopback that records webhook deliveries and answers as told. */
export async function startReceiver() {
  const received: Received[] = [];
  let answer: (request: Received) => { status: number; delayMs?: number } = () => ({ status: 200 });
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (request, response) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = { path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
    received.push(entry);
    const { status, delayMs } = answer(entry);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    inFlight -= 1;
    response.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** The most requests it had in flight at once. */
    maxInFlight: () => maxInFlight,
    answer(next: typeof answer) {
      answer = next;
    },
    at: (path: string) => received.filter((entry) => entry.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
