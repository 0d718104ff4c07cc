import Fastify from 'fastify';
import { afterAll, expect, it } from 'vitest';
import { createMetrics, instrumentHttp } from './metrics.ts';

const registry = createMetrics();
const app = Fastify({ logger: false });
instrumentHttp(app, registry);
app.get('/things/:id', async (request, reply) =>
  (request.params as { id: string }).id === 'gone' ? reply.code(410).send() : { ok: true },
);
afterAll(() => app.close());

it('times requests by method, route template and status', async () => {
  await app.inject({ url: '/things/1' });
  await app.inject({ url: '/things/2' });
  await app.inject({ url: '/things/gone' });
  await app.inject({ url: '/nowhere' });
  const text = await registry.metrics();
  const count = (labels: string) =>
    Number(new RegExp(`landlord_http_request_duration_seconds_count\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? Number.NaN);
  expect(count('method="GET",route="/things/:id",status="200"')).toBe(2);
  expect(count('method="GET",route="/things/:id",status="410"')).toBe(1);
  expect(count('method="GET",route="not_found",status="404"')).toBe(1);
});
