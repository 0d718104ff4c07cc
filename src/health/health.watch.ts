import { sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import { LIVE_STATUSES, type Status } from '../tenants/workflow.ts';
import { HEALTH_COLUMNS, type HealthColumns } from './health.view.ts';

const isLive = (status: string) => (LIVE_STATUSES as readonly string[]).includes(status);

// The health row as a tenant record's joined columns (`health_state`…), straight from the write.
const RETURNED = sql.raw(HEALTH_COLUMNS.map((column) => column.slice('tenant_health.'.length)).join(', '));

/**
 * Starts or stops watching a tenant's health when a lifecycle transition moves it
 * into or out of a live status (created_as_active, active); other transitions cost
 * nothing. Call it in the transition's transaction, with the tenant row locked.
 *
 * Entering: the health row is created (or re-armed) as `unknown`, its first probe at
 * the tenant's slot in the product's interval, paused if the product is. The product
 * row is taken FOR KEY SHARE first and read in the same statement, so a concurrent
 * product pause (which holds the product FOR UPDATE) is either seen or sees this row.
 * Leaving: the row stops being probed and drops its lease, so a probe in flight is
 * not applied; its URL override, pause and history stay.
 * Returns the health row as it now is (undefined when nothing changed).
 */
export async function syncHealthWatch(
  db: Db,
  tenant: { id: string; product_id: string; status: string },
  next: Status,
  now: Date,
): Promise<HealthColumns | undefined> {
  const wasLive = isLive(tenant.status);
  if (wasLive === isLive(next)) return undefined;
  const [row] = wasLive
    ? await executePrepared(
        db,
        sql<HealthColumns>`
          update tenant_health set watched = false, state = 'unknown', state_since = ${now}, consecutive_failures = 0,
            outage_id = null, lease_until = null, leased_by = null
          where tenant_id = ${tenant.id} and watched
          returning ${RETURNED}`,
      )
    : await executePrepared(
        db,
        sql<HealthColumns>`
          with p as (
            select id, health_paused, (health_check->>'intervalSeconds')::bigint * 1000 as interval_ms
            from products where id = ${tenant.product_id} for key share
          )
          insert into tenant_health as h (tenant_id, product_id, watched, state, state_since, next_probe_at, product_paused)
          select ${tenant.id}, p.id, true, 'unknown', ${now},
            landlord_health_slot(${tenant.id}::uuid, ${now.getTime()}::bigint, p.interval_ms), p.health_paused
          from p
          on conflict (tenant_id) do update set
            watched = true, state = 'unknown', state_since = excluded.state_since, consecutive_failures = 0,
            outage_id = null, next_probe_at = excluded.next_probe_at, lease_until = null, leased_by = null,
            last_error = null, product_paused = excluded.product_paused
          where not h.watched
          returning ${RETURNED}`,
      );
  return row;
}
