/**
 * The ceiling of the verify scenario: plain Fastify and pg on the same database and the
 * same `connections` table as Landlord, with no schemas, hooks, auth or cache. It does
 * what a verification boils down to: one indexed select of the connection and its
 * tenant, a constant-time comparison of the secret's SHA-256, a small JSON answer.
 *
 * Run as its own process: DATABASE_URL, PORT, POOL_SIZE.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { bareServer, serveBare } from './bare-http.ts';

const { app, pool } = bareServer('bare-verify');

app.get('/readyz', async () => ({ status: 'ready' }));

app.post<{ Body: { id: string; secret: string } }>('/connections/verify', async (request) => {
  const { id, secret } = request.body;
  const { rows } = await pool.query(
    `select c.id, c.name, c.type, c.active, c.configuration, c.permissions, c.secret_hash, t.id as tenant_id, t.name as tenant_name, t.status
     from connections c join tenants t on t.id = c.tenant_id where c.id = $1`,
    [id],
  );
  const row = rows[0];
  const presented = createHash('sha256').update(secret).digest();
  if (!row || !timingSafeEqual(presented, row.secret_hash)) return { valid: false, reason: 'unknown' };
  if (!row.active) return { valid: false, reason: 'inactive' };
  return {
    valid: true,
    tenant: { id: row.tenant_id, name: row.tenant_name, status: row.status },
    connection: { id: row.id, name: row.name, type: row.type, configuration: row.configuration },
    permissions: row.permissions,
  };
});

await serveBare('bare-verify', app, pool);
