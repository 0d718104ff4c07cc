import Fastify from 'fastify';
import { afterAll, expect, it } from 'vitest';
import { hookWhen } from './hooks.ts';

const app = Fastify({ logger: false });
const ran: string[] = [];
let handled = 0;
app.addHook(
  'preHandler',
  hookWhen(
    (request) => request.headers['x-hook'] !== undefined,
    async (request, reply) => {
      ran.push(String(request.headers['x-hook']));
      await new Promise((resolve) => setImmediate(resolve));
      if (request.headers['x-hook'] === 'fail') throw Object.assign(new Error('refused by the hook'), { statusCode: 409 });
      if (request.headers['x-hook'] === 'answer') return reply.code(202).send({ from: 'hook' });
    },
  ),
);
app.get('/', async () => {
  handled += 1;
  return { from: 'handler' };
});
afterAll(() => app.close());

it('skips requests it does not concern, without calling the hook', async () => {
  ran.length = 0;
  const response = await app.inject({ url: '/' });
  expect(response.json()).toEqual({ from: 'handler' });
  expect(ran).toEqual([]);
});

it('waits for the hook on the requests it concerns, then runs the handler', async () => {
  const response = await app.inject({ url: '/', headers: { 'x-hook': 'pass' } });
  expect(response.json()).toEqual({ from: 'handler' });
  expect(ran).toContain('pass');
});

it('turns an error the hook throws into the request’s error', async () => {
  const response = await app.inject({ url: '/', headers: { 'x-hook': 'fail' } });
  expect(response.statusCode).toBe(409);
  expect(response.json()).toMatchObject({ message: 'refused by the hook' });
});

it('ends the request with a reply the hook sent; the handler does not run', async () => {
  const before = handled;
  const response = await app.inject({ url: '/', headers: { 'x-hook': 'answer' } });
  expect(response.statusCode).toBe(202);
  expect(response.json()).toEqual({ from: 'hook' });
  expect(handled).toBe(before);
});
