import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressPolicy } from './egress.ts';
import { createOutboundHttp } from './outbound.ts';

const server = createServer((_request, response) => response.end('ok'));
let port = 0;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
});

const call = (url: string) => ({ method: 'GET' as const, url, headers: {}, timeoutMs: 2000, maxResponseBytes: 100, untrusted: true });

describe('createEgressPolicy', () => {
  it('refuses loopback, private, link-local and carrier-grade NAT addresses, and allows public ones', () => {
    const policy = createEgressPolicy([]);
    for (const address of [
      '127.0.0.1',
      '10.2.3.4',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ]) {
      expect(policy.refusal('host', address), address).toBeDefined();
    }
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700::1111']) expect(policy.refusal('host', address), address).toBeUndefined();
  });

  it('lets the operator allow host names, addresses and ranges', () => {
    const policy = createEgressPolicy(['127.0.0.1', 'hooks.internal', '10.1.0.0/16']);
    expect(policy.refusal('x', '127.0.0.1')).toBeUndefined();
    expect(policy.refusal('hooks.internal', '10.9.9.9')).toBeUndefined();
    expect(policy.refusal('x', '10.1.200.3')).toBeUndefined();
    expect(policy.refusal('x', '10.2.0.1')).toBeDefined();
  });
});

describe('untrusted outbound calls', () => {
  it('refuses a loopback IP literal and a name resolving to loopback, before connecting', async () => {
    const http = createOutboundHttp({ egress: createEgressPolicy([]) });
    try {
      const literal = await http.send(call(`http://127.0.0.1:${port}/`));
      expect(literal).toMatchObject({ ok: false, code: 'EGRESS_REFUSED' });
      const named = await http.send(call(`http://localhost:${port}/`));
      expect(named).toMatchObject({ ok: false, code: 'EGRESS_REFUSED' });
      // The same URL is fine for a trusted call (a product backend the operator configured).
      expect(await http.send({ ...call(`http://127.0.0.1:${port}/`), untrusted: false })).toMatchObject({ ok: true, status: 200 });
    } finally {
      await http.close();
    }
  });

  it('lets an allowed address through', async () => {
    const http = createOutboundHttp({ egress: createEgressPolicy(['127.0.0.1', 'localhost']) });
    try {
      expect(await http.send(call(`http://127.0.0.1:${port}/`))).toMatchObject({ ok: true, status: 200, body: 'ok' });
      expect(await http.send(call(`http://localhost:${port}/`))).toMatchObject({ ok: true, status: 200 });
    } finally {
      await http.close();
    }
  });
});
