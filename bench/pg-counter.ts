/**
 * A diagnostic TCP proxy in front of PostgreSQL that counts round trips: each simple
 * query ('Q') and each extended-protocol batch ending in Sync ('S') is one trip to the
 * server and back. A server pointed at it (DATABASE_URL on PORT) shows how many trips
 * one request costs. Never used while throughput is measured.
 *
 * Run as its own process: PORT, CONTROL_PORT, TARGET_HOST, TARGET_PORT.
 * Control: `GET /counts` → `{ roundTrips, statements, connections }`; `POST /record`
 * starts keeping the text of every statement, `POST /mark` adds a `null` marker between
 * them, `GET /recorded` stops and returns them as `[connection number, text]`.
 */
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';

let roundTrips = 0;
let statements = 0;
let connections = 0;
let recording = false;
let recorded: ([number, string] | null)[] = [];

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/** Follows the client's side of the protocol, counting without changing a byte. */
function counter(connection: number): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  let startup = true;
  const prepared = new Map<string, string>();
  return (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    for (;;) {
      if (startup) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) startup = false;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return;
      const type = String.fromCharCode(buffered[0] as number);
      const length = buffered.readInt32BE(1);
      if (buffered.length < length + 1) return;
      if (type === 'Q') {
        roundTrips++;
        statements++;
        if (recording) recorded.push([connection, cString(buffered, 5)]);
      } else if (type === 'S') roundTrips++;
      else if (type === 'E') statements++;
      else if (type === 'P') {
        // Parse: statement name, then the query text (kept by name: prepared statements are parsed once).
        const name = cString(buffered, 5);
        prepared.set(name, cString(buffered, 5 + Buffer.byteLength(name) + 1));
      } else if (type === 'B' && recording) {
        // Bind: portal name, then the statement it runs.
        const portal = cString(buffered, 5);
        recorded.push([connection, prepared.get(cString(buffered, 5 + Buffer.byteLength(portal) + 1)) ?? '?']);
      }
      buffered = buffered.subarray(length + 1);
    }
  };
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString('utf8', start, end < 0 ? buffer.length : end);
}

const proxy = createServer((client: Socket) => {
  const connection = ++connections;
  const server = connect(Number(process.env.TARGET_PORT ?? 5432), process.env.TARGET_HOST ?? '127.0.0.1');
  const count = counter(connection);
  client.on('data', (chunk: Buffer) => {
    count(chunk);
    server.write(chunk);
  });
  server.on('data', (chunk: Buffer) => client.write(chunk));
  client.on('close', () => server.destroy());
  server.on('close', () => client.destroy());
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
});

const control = createHttpServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  if (req.url === '/record') {
    recording = true;
    recorded = [];
    res.end('{}');
  } else if (req.url === '/mark') {
    recorded.push(null);
    res.end('{}');
  } else if (req.url === '/recorded') {
    recording = false;
    res.end(JSON.stringify(recorded));
  } else res.end(JSON.stringify({ roundTrips, statements, connections }));
});

const stop = () => {
  proxy.close();
  control.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

proxy.listen(Number(process.env.PORT), '127.0.0.1', () => {
  control.listen(Number(process.env.CONTROL_PORT), '127.0.0.1', () => process.stdout.write('pg-counter ready\n'));
});
