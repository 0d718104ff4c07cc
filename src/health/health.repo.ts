import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { HOURLY_MERGE } from './probes.repo.ts';

/** The probe-history columns of one tenant's health row: the current hour's totals, and what controls it. */
export async function findHealthRow(db: Db, tenantId: string) {
  return db.selectFrom('tenant_health').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** A tenant's hourly totals from `since` on. */
export async function findHourlyTotals(db: Db, tenantId: string, since: Date) {
  return db
    .selectFrom('tenant_probe_hourly')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('hour', '>=', since)
    .orderBy('hour')
    .execute();
}

/** A tenant's latest availability changes, newest first. */
export async function findHealthChanges(db: Db, tenantId: string, limit: number) {
  return db
    .selectFrom('tenant_timeline')
    .select(['at', 'action', 'from_status', 'to_status', 'detail'])
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', 'health')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** A tenant's latest kept probes, newest first. */
export async function findRecentProbes(db: Db, tenantId: string, limit: number) {
  return db.selectFrom('tenant_probes').selectAll().where('tenant_id', '=', tenantId).orderBy('at', 'desc').limit(limit).execute();
}

/** What an operator may change on a tenant's health. */
export interface HealthControls {
  paused?: boolean;
  pausedReason?: string | null;
  urlOverride?: string | null;
}

/**
 * Changes a tenant's pause or URL, creating its (unwatched) row when the tenant was
 * never live, so the setting is there when it goes live. A watched tenant that is
 * resumed or given a new URL is probed at once.
 */
export async function updateHealthControls(
  db: Db,
  tenant: { id: string; product_id: string },
  controls: HealthControls,
  now: Date,
): Promise<void> {
  await db
    .insertInto('tenant_health')
    .values({ tenant_id: tenant.id, product_id: tenant.product_id, watched: false, state_since: now, next_probe_at: now })
    .onConflict((conflict) => conflict.column('tenant_id').doNothing())
    .execute();
  const probeSoon = controls.paused === false || controls.urlOverride !== undefined;
  await db
    .updateTable('tenant_health')
    .set({
      ...(controls.paused !== undefined && {
        paused: controls.paused,
        paused_reason: controls.paused ? (controls.pausedReason ?? null) : null,
      }),
      ...(controls.urlOverride !== undefined && { url_override: controls.urlOverride }),
      ...(probeSoon && { next_probe_at: now }),
    })
    .where('tenant_id', '=', tenant.id)
    .execute();
}

/**
 * Pauses or resumes a product's probing: the product's flag, and the copy on each of
 * its tenants' rows (the due index skips them). Resuming puts every tenant of the
 * product back at its slot, spread over the interval rather than all at once (also the
 * way to start at once after the product got a health-check URL). Call it with the
 * product row locked FOR UPDATE (see `syncHealthWatch` for why). Returns the rows changed.
 */
export async function setProductPaused(db: Db, product: { id: string }, paused: boolean, now: Date): Promise<number> {
  await db.updateTable('products').set({ health_paused: paused }).where('id', '=', product.id).execute();
  const result = await sql`
    update tenant_health h set product_paused = ${paused},
      next_probe_at = case when ${paused} then h.next_probe_at
        else landlord_health_slot(h.tenant_id, ${now.getTime()}::bigint, (p.health_check->>'intervalSeconds')::bigint * 1000) end
    from products p
    where p.id = ${product.id} and h.product_id = p.id and (h.product_paused <> ${paused} or not ${paused})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Per product: how many watched tenants are in each state, and how many are paused. */
export async function countHealthByProduct(db: Db, productId: string | null) {
  const { rows } = await sql<{
    id: string;
    name: string;
    health_paused: boolean;
    healthy: number;
    suspect: number;
    unavailable: number;
    unknown: number;
    paused: number;
  }>`
    select p.id, p.name, p.health_paused,
      count(h.tenant_id) filter (where h.state = 'healthy')::int as healthy,
      count(h.tenant_id) filter (where h.state = 'suspect')::int as suspect,
      count(h.tenant_id) filter (where h.state = 'unavailable')::int as unavailable,
      count(h.tenant_id) filter (where h.state = 'unknown')::int as unknown,
      count(h.tenant_id) filter (where h.paused or h.product_paused)::int as paused
    from products p left join tenant_health h on h.product_id = p.id and h.watched
    where ${productId}::uuid is null or p.id = ${productId}::uuid
    group by p.id order by p.name limit 500`.execute(db);
  return rows;
}

/** The worst tenants of each product: unavailable, then suspect, the longest failing first. */
export async function findWorstTenants(db: Db, productIds: readonly string[], limit: number) {
  if (productIds.length === 0 || limit === 0) return [];
  const { rows } = await sql<{
    product_id: string;
    id: string;
    name: string;
    state: 'suspect' | 'unavailable';
    state_since: Date;
    consecutive_failures: number;
    last_error: string | null;
    last_probe_at: Date | null;
  }>`
    select w.* from unnest(${productIds}::uuid[]) as pid(id) cross join lateral (
      select * from (
        (select h.product_id, t.id, t.name, h.state, h.state_since, h.consecutive_failures, h.last_error, h.last_probe_at, 0 as rank
         from tenant_health h join tenants t on t.id = h.tenant_id
         where h.product_id = pid.id and h.watched and h.state = 'unavailable' order by h.state_since limit ${limit})
        union all
        (select h.product_id, t.id, t.name, h.state, h.state_since, h.consecutive_failures, h.last_error, h.last_probe_at, 1 as rank
         from tenant_health h join tenants t on t.id = h.tenant_id
         where h.product_id = pid.id and h.watched and h.state = 'suspect' order by h.state_since limit ${limit})
      ) both_states order by rank, state_since limit ${limit}
    ) w`.execute(db);
  return rows;
}

/** Deletes up to `batch` rows older than `cutoff` from a history table; returns how many. */
export async function deleteOldHistory(
  db: Db,
  table: 'tenant_probes' | 'tenant_probe_hourly',
  cutoff: Date,
  batch: number,
): Promise<number> {
  // Chunks keep each transaction short; ctid lets the delete follow the BRIN-indexed scan.
  const result =
    table === 'tenant_probes'
      ? await sql`delete from tenant_probes where ctid = any(array(select ctid from tenant_probes where at < ${cutoff} limit ${batch}))`.execute(
          db,
        )
      : await sql`delete from tenant_probe_hourly where ctid = any(array(select ctid from tenant_probe_hourly where hour < ${cutoff} limit ${batch}))`.execute(
          db,
        );
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Moves the totals of hours that are over from rows nobody probes now (paused, not
 * live, no URL) into the hourly table. Rows leased by a prober are left to it.
 */
export async function moveFinishedHours(db: Db, now: Date, batch: number): Promise<number> {
  const hour = new Date(now.getTime() - (now.getTime() % 3_600_000));
  const result = await sql`
    with s as (
      select tenant_id, acc_hour, acc_probes, acc_failures, acc_observed_ms, acc_down_ms, acc_latency_sum_ms, acc_latency_hist
      from tenant_health
      where acc_hour < ${hour} and acc_probes > 0 and (lease_until is null or lease_until < ${now})
      limit ${batch} for update skip locked
    ),
    moved as (
      insert into tenant_probe_hourly as t (tenant_id, hour, probes, failures, observed_ms, down_ms, latency_sum_ms, latency_hist)
      select tenant_id, acc_hour, acc_probes, acc_failures, acc_observed_ms, acc_down_ms, acc_latency_sum_ms, acc_latency_hist from s
      ${HOURLY_MERGE}
    )
    update tenant_health h set acc_hour = null, acc_probes = 0, acc_failures = 0, acc_observed_ms = 0, acc_down_ms = 0,
      acc_latency_sum_ms = 0, acc_latency_hist = '{}'
    from s where h.tenant_id = s.tenant_id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
