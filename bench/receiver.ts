/**
 * A webhook receiver on loopback, run as its own process (PORT). Every POST is
 * answered 200 at once; the arrival time of each (path, webhook-id) is kept so the
 * bench can compute commit-to-receipt latency.
 *
 * Control: `GET /_bench/count`, `GET /_bench/stats` (arrivals), `POST /_bench/reset`.
 */
import { createServer } from 'node:http';

let arrivals: [string, number][] = [];

const server = createServer((req, res) => {
  const at = Date.now();
  if (req.url === '/_bench/count')
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: arrivals.length }));
  if (req.url === '/_bench/stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ arrivals }));
  if (req.url === '/_bench/reset') {
    arrivals = [];
    return res.writeHead(200).end('{}');
  }
  // The body is drained, not parsed: the receiver must cost as little as it can.
  req.resume();
  req.on('end', () => {
    arrivals.push([`${req.url}|${req.headers['webhook-id'] ?? ''}`, at]);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('receiver ready'));
