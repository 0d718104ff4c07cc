/**
 * The ceiling of the api scenario: plain Fastify and pg on the same database and the
 * same `tenants` table as Landlord, with no schemas, hooks, auth or audit. It answers
 * the two queries the measured routes boil down to: one row by name, one insert.
 *
 * Run as its own process: DATABASE_URL, PORT, POOL_SIZE.
 */

import { v7 } from 'uuid';
import { bareServer, serveBare } from './bare-http.ts';

const { app, pool } = bareServer('bare-server');

app.get('/readyz', async () => ({ status: 'ready' }));

app.get<{ Params: { name: string } }>('/tenants/:name', async (request, reply) => {
  const { rows } = await pool.query('select * from tenants where name = $1', [request.params.name]);
  if (rows.length === 0) return reply.code(404).send({ error: 'not found' });
  return rows[0];
});

app.post<{ Body: { productId: string; name: string; displayName: string } }>('/tenants', async (request, reply) => {
  const { productId, name, displayName } = request.body;
  const { rows } = await pool.query('insert into tenants (id, product_id, name, display_name) values ($1, $2, $3, $4) returning *', [
    v7(),
    productId,
    name,
    displayName,
  ]);
  return reply.code(201).send(rows[0]);
});

await serveBare('bare-server', app, pool);
