/**
 * The ceiling of the account-api scenario: plain Fastify and pg on the same database and
 * tables as Landlord, with no auth, schemas, hooks, audit or events. A group read is one
 * select of the group and its tenant; a bill is one insert of the row (its tenant and product
 * found by the group number in the same statement) returning it.
 *
 * Run as its own process: DATABASE_URL, PORT, POOL_SIZE.
 */
import { randomUUID } from 'node:crypto';
import { bareServer, serveBare } from './bare-http.ts';

const { app, pool } = bareServer('bare-account');
const iso = (value: Date | null) => (value ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

app.get('/readyz', async () => ({ status: 'ready' }));

app.get<{ Params: { id: string } }>('/groups/:id', async (request, reply) => {
  const { rows } = await pool.query(
    `select g.*, t.display_name, t.status from marketplace_groups g join tenants t on t.id = g.tenant_id where g.number = $1`,
    [Number(request.params.id.slice(4))],
  );
  const row = rows[0];
  if (!row) return reply.code(404).send({ success: false, errors: { id: ['does not exist'] }, data: null });
  return {
    success: true,
    errors: {},
    data: {
      object: 'account_group',
      id: `cld-${row.number}`,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
      has_credit_card: row.has_credit_card,
      status: row.status,
      name: row.display_name,
      free_trial_end_at: null,
      email: row.email,
      currency: row.currency,
      timezone: row.timezone,
      country: row.country,
      city: row.city,
    },
  };
});

app.post<{ Body: { group_id: string; price_cents: number; description: string } }>('/bills', async (request, reply) => {
  const { group_id: group, price_cents: cents, description } = request.body;
  const { rows } = await pool.query(
    `insert into bills (id, product_id, tenant_id, price_cents, currency, description, status, invoice_at, created_at, updated_at)
     select $1, t.product_id, t.id, $2, g.currency, $3, 'submitted', now() + interval '1 day', now(), now()
     from marketplace_groups g join tenants t on t.id = g.tenant_id where g.number = $4
     returning *`,
    [randomUUID(), cents, description, Number(group.slice(4))],
  );
  const row = rows[0];
  return reply.code(201).send({
    success: true,
    errors: {},
    data: {
      object: 'account_bill',
      id: `bill-${row.number}`,
      group_id: group,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
      price_cents: Number(row.price_cents),
      status: row.status,
      currency: row.currency,
      units: null,
      description: row.description,
      period_started_at: null,
      period_ended_at: null,
    },
  });
});

await serveBare('bare-account', app, pool);
