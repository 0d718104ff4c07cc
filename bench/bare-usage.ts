/**
 * The ceilings of the usage and entitlements scenarios: plain Fastify and pg on the same
 * database and tables as Landlord, with no schemas, hooks, auth, windows or cache.
 *
 * - `POST /usage {tenantId, featureId, windowStart, events}`: what ingestion boils down to —
 *   the batch's `INSERT … ON CONFLICT DO NOTHING RETURNING` feeding the totals upsert, in
 *   one statement (the caller resolved the tenant, feature and window beforehand).
 * - `POST /check {tenantId, featureId}`: the select of the same total an entitlement check
 *   reads, and the same comparison.
 * - `POST /constant {quantity}`: a check's answer from constants, the floor of what any check costs here.
 *
 * Run as its own process: DATABASE_URL, PORT, POOL_SIZE.
 */
import { bareServer, serveBare } from './bare-http.ts';

const { app, pool } = bareServer('bare-usage');

app.get('/readyz', async () => ({ status: 'ready' }));

interface BareEvent {
  id: string;
  quantity: number;
  timestamp: string;
}

app.post<{ Body: { productId: string; tenantId: string; featureId: string; windowStart: string; events: BareEvent[] } }>(
  '/usage',
  async (request) => {
    const { productId, tenantId, featureId, windowStart, events } = request.body;
    const { rows } = await pool.query(
      `with input as (
         select * from unnest($1::text[], $2::bigint[], $3::timestamptz[]) as i(producer_id, quantity, occurred_at)),
       inserted as (
         insert into usage_events (product_id, producer_id, tenant_id, feature_id, quantity, occurred_at, window_start, body_hash, received_at)
         select $4, producer_id, $5, $6, quantity, occurred_at, $7, '\\x00', now() from input
         on conflict (product_id, producer_id) do nothing
         returning quantity),
       totals as (
         insert into usage_totals as t (tenant_id, feature_id, window_start, product_id, quantity, events, updated_at)
         select $5, $6, $7, $4, sum(quantity), count(*), now() from inserted having count(*) > 0
         on conflict (tenant_id, feature_id, window_start) do update
           set quantity = t.quantity + excluded.quantity, events = t.events + excluded.events, updated_at = excluded.updated_at
         returning 1)
       select (select count(*) from inserted)::int as accepted`,
      [
        events.map((event) => event.id),
        events.map((event) => event.quantity),
        events.map((event) => event.timestamp),
        productId,
        tenantId,
        featureId,
        windowStart,
      ],
    );
    return { accepted: rows[0].accepted, duplicates: events.length - rows[0].accepted };
  },
);

app.post<{ Body: { tenantId: string; featureId: string; quantity?: number } }>('/check', async (request) => {
  const { tenantId, featureId, quantity = 1 } = request.body;
  const { rows } = await pool.query(
    `select t.quantity + t.adjusted as used, pf.limit_value
     from usage_totals t join tenants tn on tn.id = t.tenant_id
     join plan_prices pp on pp.id = tn.plan_price_id join plan_features pf on pf.plan_id = pp.plan_id and pf.feature_id = t.feature_id
     where t.tenant_id = $1 and t.feature_id = $2 order by t.window_start desc limit 1`,
    [tenantId, featureId],
  );
  const used = Number(rows[0]?.used ?? 0);
  const limit = rows[0]?.limit_value === null || rows[0] === undefined ? null : Number(rows[0].limit_value);
  return { allowed: limit === null || used + quantity <= limit, used, limit, remaining: limit === null ? null : Math.max(0, limit - used) };
});

// The floor: the same request parsed and a check's answer sent, with nothing worked out and no database. What a
// Fastify route costs on this machine at the same load, and so the least latency any check could have here.
app.post<{ Body: { quantity?: number } }>('/constant', async (request) => {
  const used = 7;
  const limit = 1000;
  const quantity = request.body.quantity ?? 1;
  return { allowed: used + quantity <= limit, used, limit, remaining: limit - used };
});

await serveBare('bare-usage', app, pool);
