import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { sequencedEvents } from '../events/events.repo.ts';

/**
 * Reads only the console makes (overviews and newest-first lists); every change the
 * console makes goes through the feature services that `/v1` uses.
 */

/** A tenant's timeline newest first (`limit + 1` rows, to tell whether older ones follow). */
export async function findLatestTimeline(
  db: Db,
  tenantId: string,
  options: { beforeId?: number; limit: number; kind?: 'transition' | 'call' | 'report' | 'health' },
) {
  let query = db
    .selectFrom('tenant_timeline')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('id', 'desc')
    .limit(options.limit + 1);
  if (options.beforeId !== undefined) query = query.where('id', '<', options.beforeId);
  if (options.kind) query = query.where('kind', '=', options.kind);
  return query.execute();
}

/** How many tenants are in each status (of one product, or all). */
export async function countTenantsByStatus(db: Db, productId: string | null) {
  let query = db
    .selectFrom('tenants')
    .select(['status', sql<number>`count(*)::int`.as('count')])
    .groupBy('status')
    .orderBy('status');
  if (productId) query = query.where('product_id', '=', productId);
  return query.execute();
}

/** Tenants whose backend report is overdue (the deadline passed and nothing came). */
export async function findOverdueReports(db: Db, productId: string | null, now: Date, limit: number) {
  let query = db
    .selectFrom('tenants')
    .select(['id', 'name', 'status', 'report_due_at'])
    .where('report_due_at', '<', now)
    .orderBy('report_due_at')
    .limit(limit);
  if (productId) query = query.where('product_id', '=', productId);
  return query.execute();
}

/** Unhealthy tenants (suspect or unavailable), worst first. */
export async function findUnhealthy(db: Db, productId: string | null, limit: number) {
  let query = db
    .selectFrom('tenant_health')
    .innerJoin('tenants', 'tenants.id', 'tenant_health.tenant_id')
    .select(['tenants.id', 'tenants.name', 'tenant_health.state', 'tenant_health.state_since', 'tenant_health.last_error'])
    .where('tenant_health.watched', '=', true)
    .where('tenant_health.state', 'in', ['suspect', 'unavailable'])
    .orderBy('tenant_health.state_since')
    .limit(limit);
  if (productId) query = query.where('tenants.product_id', '=', productId);
  return query.execute();
}

/** What a new installation has set up, for the "get started" checklist. */
export async function setupProgress(db: Db, productId: string | null) {
  const scoped = productId ? sql`where product_id = ${productId}` : sql``;
  const productScope = productId ? sql`where id = ${productId}` : sql``;
  const { rows } = await sql<{
    products: number;
    with_urls: number;
    clients: number;
    prices: number;
    endpoints: number;
  }>`select
      (select count(*)::int from products ${productScope}) as products,
      (select count(*)::int from products ${productScope} ${productId ? sql`and` : sql`where`} webhooks <> '{}'::jsonb) as with_urls,
      (select count(*)::int from clients ${scoped}) as clients,
      (select count(*)::int from plan_prices p join plans pl on pl.id = p.plan_id where p.published ${productId ? sql`and pl.product_id = ${productId}` : sql``}) as prices,
      (select count(*)::int from webhook_endpoints ${scoped}) as endpoints`.execute(db);
  return rows[0] ?? { products: 0, with_urls: 0, clients: 0, prices: 0, endpoints: 0 };
}

/** The newest sequenced events, newest first. */
export async function findLatestEvents(db: Db, productId: string | null, limit: number) {
  let query = sequencedEvents(db).orderBy('feed.position', 'desc').limit(limit);
  if (productId) query = query.where('feed.product_id', '=', productId);
  return query.execute();
}

/** A tenant's hourly probe totals from `since` on, only what the charts draw (not the latency histograms). */
export async function findHourlySeries(db: Db, tenantId: string, since: Date) {
  return db
    .selectFrom('tenant_probe_hourly')
    .select(['hour', 'probes', 'failures', 'latency_sum_ms'])
    .where('tenant_id', '=', tenantId)
    .where('hour', '>=', since)
    .orderBy('hour')
    .execute();
}

/** The marketplace group a tenant is, if it is one: the group's number and its marketplace. */
export async function findGroupOfTenant(db: Db, tenantId: string) {
  return db
    .selectFrom('marketplace_groups as g')
    .innerJoin('marketplaces', 'marketplaces.id', 'g.marketplace_id')
    .select(['g.number', 'g.deleted_at', 'marketplaces.id as marketplace_id', 'marketplaces.name as marketplace_name'])
    .where('g.tenant_id', '=', tenantId)
    .executeTakeFirst();
}
