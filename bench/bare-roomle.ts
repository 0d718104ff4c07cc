/**
 * The ceiling of the roomle-read scenario: plain Fastify and pg on the same database,
 * with no schemas, hooks, auth or envelope. It does what the read boils down to: the
 * same one statement Landlord runs (the tenant by number, its Roomle settings, webhook
 * URL and packages), answered as JSON.
 *
 * Run as its own process: DATABASE_URL, PORT, POOL_SIZE.
 */
import { bareServer, serveBare } from './bare-http.ts';

const { app, pool } = bareServer('bare-roomle');

const SELECT = `
  select t.id, t.number, t.name, t.display_name, t.status, t.product_id, p.name as product_name,
    (rp.product_id is not null) as roomle,
    r.languages, r.default_language, r.show_language_switch, r.authentication_required, r.visibility, r.privacy_url,
    r.allow_registration, r.branded, r.skin, r.configuration, r.modules, r.webhook_endpoint_id, w.url as webhook_url,
    r.api_connection_id, r.version as settings_version,
    coalesce((
      select json_agg(json_build_object('id', s.id, 'package', pk.package, 'validFrom', s.start_at) order by s.start_at, s.id)
      from subscriptions s
      join plan_prices pp on pp.id = s.price_id
      join roomle_packages pk on pk.product_id = s.product_id and pk.plan_id = pp.plan_id
      where s.tenant_id = t.id and s.status in ('trialing', 'active', 'past_due')
    ), '[]'::json) as packages
  from tenants t
  join products p on p.id = t.product_id
  left join roomle_products rp on rp.product_id = t.product_id
  left join roomle_tenants r on r.tenant_id = t.id
  left join webhook_endpoints w on w.id = r.webhook_endpoint_id
  where t.number = $1`;

app.get('/readyz', async () => ({ status: 'ready' }));

app.get<{ Params: { id: string } }>('/tenants/:id', async (request, reply) => {
  const { rows } = await pool.query({ name: 'roomle-read', text: SELECT, values: [Number(request.params.id)] });
  const row = rows[0];
  if (!row) return reply.code(404).send({ error: { code: 'tenant.not_found' } });
  return { tenant: { ...row, id: Number(row.number), label: row.display_name }, meta: { serverTime: new Date().toISOString() } };
});

await serveBare('bare-roomle', app, pool);
