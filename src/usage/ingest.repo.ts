import { sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import { USAGE_CHANNEL } from './usage-events.ts';

/** One event ready to store: resolved, hashed, its window computed. */
export interface EventRow {
  producerId: string;
  tenantId: string;
  featureId: string;
  planFeatureId: string;
  quantity: number;
  occurredAt: Date;
  windowStart: Date;
  windowEnd: Date | null;
  properties: Record<string, unknown> | null;
  /** SHA-256 of the event body, hex. */
  bodyHash: string;
}

/** A window total after the batch was counted in. */
export interface TotalAfter {
  tenant_id: string;
  feature_id: string;
  window_start: string;
  window_end: string | null;
  used: number;
}

/** A threshold this batch crossed first in its window, and the limit of the plan in force at the event that crossed it. */
export interface Crossing {
  tenant_id: string;
  feature_id: string;
  window_start: string;
  window_end: string | null;
  threshold: number;
  limit: number;
}

/** What one batch statement did. */
export interface BatchWritten {
  inserted: string[];
  totals: TotalAfter[];
  crossed: Crossing[];
}

/**
 * Stores a batch in one statement: the events not stored before (`ON CONFLICT DO NOTHING`,
 * in producer-id order so that concurrent batches lock alike), the totals of exactly what
 * was inserted added to their windows (in key order, for the same reason), and the
 * thresholds those totals crossed for the first time in their window (a unique key per
 * window and threshold: when many batches cross at once, one of them gets the row), each
 * event judged against its own plan feature (the plan in force at its time, also when a
 * plan change falls inside the window).
 * Two identical batches at the same moment therefore count once. The same statement notifies
 * the tenants whose totals changed (`landlord_usage`, delivered at commit).
 */
export async function insertUsageBatch(
  db: Db,
  productId: string,
  times: { now: Date; realNow: Date },
  rows: readonly EventRow[],
): Promise<BatchWritten> {
  const { now, realNow } = times;
  const sorted = [...rows].sort((a, b) => (a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0));
  const column = <T>(pick: (row: EventRow) => T) => sorted.map(pick);
  // The windows the batch touches, once per plan feature (few; two when a plan change falls inside a window): events
  // name theirs by number, which keeps the statement small.
  const keyOf = (row: EventRow) => `${row.tenantId}|${row.featureId}|${row.windowStart.getTime()}|${row.planFeatureId}`;
  const numbers = new Map<string, number>();
  const keys: EventRow[] = [];
  for (const row of rows) {
    if (numbers.has(keyOf(row))) continue;
    numbers.set(keyOf(row), keys.length + 1);
    keys.push(row);
  }
  // The text never varies (every value is a parameter): prepared once per connection, not planned per batch.
  const result = await executePrepared(
    db,
    sql<BatchWritten>`
    with windows as (
      select * from unnest(${keys.map((key) => key.tenantId)}::uuid[], ${keys.map((key) => key.featureId)}::uuid[],
        ${keys.map((key) => key.windowStart.toISOString())}::timestamptz[], ${keys.map((key) => key.windowEnd?.toISOString() ?? null)}::timestamptz[],
        ${keys.map((key) => key.planFeatureId)}::uuid[]) with ordinality as w(tenant_id, feature_id, window_start, window_end, plan_feature_id, k)
    ),
    input as (
      select * from unnest(
        ${column((row) => row.producerId)}::text[], ${column((row) => numbers.get(keyOf(row)))}::int[],
        ${column((row) => row.quantity)}::bigint[], ${column((row) => row.occurredAt.toISOString())}::timestamptz[],
        ${column((row) => (row.properties ? JSON.stringify(row.properties) : null))}::jsonb[], ${column((row) => row.bodyHash)}::text[]
      ) with ordinality as i(producer_id, k, quantity, occurred_at, properties, body_hash, n)
    ),
    inserted as (
      insert into usage_events (product_id, producer_id, tenant_id, feature_id, quantity, occurred_at, window_start, properties, body_hash, received_at)
      select ${productId}::uuid, i.producer_id, w.tenant_id, w.feature_id, i.quantity, i.occurred_at, w.window_start, i.properties,
        decode(i.body_hash, 'hex'), ${now}::timestamptz
      from input i join windows w using (k) order by i.n
      on conflict (product_id, producer_id) do nothing
      returning producer_id, tenant_id, feature_id, window_start, quantity
    ),
    -- A window and how many plan features its events came under (two when a plan change falls inside it).
    keyed as (
      select tenant_id, feature_id, window_start, min(window_end) as window_end, count(*) as plans
      from windows group by tenant_id, feature_id, window_start
    ),
    sums as (
      select tenant_id, feature_id, window_start, sum(quantity)::bigint as quantity, count(*)::bigint as events
      from inserted group by tenant_id, feature_id, window_start
    ),
    totals as (
      insert into usage_totals as t (tenant_id, feature_id, window_start, window_end, product_id, quantity, events, updated_at)
      select s.tenant_id, s.feature_id, s.window_start, w.window_end, ${productId}::uuid, s.quantity, s.events, ${now}::timestamptz
      from sums s join keyed w using (tenant_id, feature_id, window_start)
      order by s.tenant_id, s.feature_id, s.window_start
      on conflict (tenant_id, feature_id, window_start) do update
        set quantity = t.quantity + excluded.quantity, events = t.events + excluded.events, updated_at = excluded.updated_at
      returning t.tenant_id, t.feature_id, t.window_start, t.window_end, t.quantity + t.adjusted as used
    ),
    -- Each event is judged against the plan in force at its time (its plan feature): the window's usage up to and with it,
    -- in storing order, from the total read under the row's lock. Usage only grows, so each plan feature's last event
    -- decides; in a window of one plan feature that is the total now.
    judged as (
      select w.k, t.used from windows w join keyed using (tenant_id, feature_id, window_start)
        join totals t using (tenant_id, feature_id, window_start) where keyed.plans = 1
      union all
      select k, max(running) from (
        select i.k, t.used - s.quantity + sum(i.quantity) over (partition by w.tenant_id, w.feature_id, w.window_start order by i.n) as running
        from (select producer_id from inserted) e join input i using (producer_id) join windows w using (k) join keyed using (tenant_id, feature_id, window_start)
          join totals t using (tenant_id, feature_id, window_start) join sums s using (tenant_id, feature_id, window_start)
        where keyed.plans > 1
      ) r group by k
    ),
    reached as (
      select distinct on (w.tenant_id, w.feature_id, w.window_start, th.threshold)
        w.tenant_id, w.feature_id, w.window_start, t.window_end, th.threshold, pf.limit_value
      from judged j join windows w using (k) join totals t using (tenant_id, feature_id, window_start)
      join plan_features pf on pf.id = w.plan_feature_id
      cross join lateral unnest(pf.thresholds) as th(threshold)
      where pf.limit_value is not null and j.used > 0 and j.used::numeric * 100 >= pf.limit_value::numeric * th.threshold
        and (t.window_end is null or t.window_end > ${now}::timestamptz)
      order by w.tenant_id, w.feature_id, w.window_start, th.threshold, j.used desc
    ),
    crossed as (
      insert into usage_crossings as c (tenant_id, feature_id, window_start, threshold, product_id, window_end, crossed_at, checked_at)
      select r.tenant_id, r.feature_id, r.window_start, r.threshold, ${productId}::uuid, r.window_end, ${now}::timestamptz, ${realNow}::timestamptz
      from reached r
      order by 1, 2, 3, 4
      on conflict (tenant_id, feature_id, window_start, threshold) do update
        set crossed_at = excluded.crossed_at, checked_at = excluded.checked_at, cleared_at = null
        where c.cleared_at is not null
      returning c.tenant_id, c.feature_id, c.window_start, c.window_end, c.threshold
    ),
    -- Every node's entitlements cache hears (at commit) which tenants changed, 200 ids a notification.
    notified as (
      select pg_notify(${USAGE_CHANNEL}, string_agg(tenant_id::text, ',')) from (
        select tenant_id, (row_number() over (order by tenant_id) - 1) / 200 as chunk from (select distinct tenant_id from totals) d
      ) c group by chunk
    )
    select
      coalesce((select array_agg(producer_id) from inserted), '{}') as inserted,
      coalesce((select json_agg(totals) from totals), '[]') as totals,
      coalesce((select json_agg(json_build_object('tenant_id', x.tenant_id, 'feature_id', x.feature_id, 'window_start', x.window_start,
        'window_end', x.window_end, 'threshold', x.threshold, 'limit', r.limit_value) order by x.tenant_id, x.threshold)
        from crossed x join reached r using (tenant_id, feature_id, window_start, threshold)), '[]') as crossed,
      (select count(*) from notified) as notified`,
  );
  const row = result[0];
  if (!row) throw new Error('the usage batch statement returned no row');
  return row;
}

/** The stored body hashes (hex) of the producer ids given, for telling duplicates from conflicts. */
export async function findStoredHashes(db: Db, productId: string, producerIds: readonly string[]): Promise<Map<string, string>> {
  if (producerIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('usage_events')
    .select(['producer_id', sql<string>`encode(body_hash, 'hex')`.as('hash')])
    .where('product_id', '=', productId)
    .where('producer_id', 'in', [...producerIds])
    .execute();
  return new Map(rows.map((row) => [row.producer_id, row.hash]));
}

/** Flags stored events that took their window past its limit. */
export async function flagOverLimit(db: Db, productId: string, producerIds: readonly string[]): Promise<void> {
  if (producerIds.length === 0) return;
  await sql`update usage_events set over_limit = true
    where product_id = ${productId}::uuid and producer_id = any(${[...producerIds]}::text[])`.execute(db);
}
