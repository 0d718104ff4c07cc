import { type Selectable, sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import type { WebhookDeliveriesTable } from '../db/schema.ts';
import type { Derivation } from '../events/sequencer.ts';

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A claimed delivery with its event, as the dispatcher sends it. */
export type ClaimedDelivery = DeliveryRow & {
  event: {
    id: string;
    type: string;
    occurred_at: string;
    product_id: string | null;
    tenant_id: string | null;
    tenant_seq: number | null;
    data: Record<string, unknown>;
  };
};

/** Channel the dispatchers listen on: new deliveries are waiting. */
export const DELIVERIES_CHANNEL = 'landlord_deliveries';

/**
 * Creates one pending delivery per (event, enabled endpoint that wants it) for the events the sequencer is giving
 * their positions, in its statement (`Derivation`), so each event reaches each endpoint once and the dispatchers are
 * told at commit. An endpoint of a product gets only that product's events.
 */
export function deliveriesDerivation(now: () => Date): Derivation {
  return {
    channel: DELIVERIES_CHANNEL,
    statement: () => sql`
      insert into webhook_deliveries (endpoint_id, event_id, event_type, event_position, tenant_id, next_attempt_at)
      select endpoint.id, event.id, event.type, event.position, event.tenant_id, ${now()}::timestamptz
      from sequenced as event
      join webhook_endpoints endpoint
        on endpoint.enabled
        and (
          -- A test event goes to its one endpoint only, whatever that endpoint subscribed to.
          case when event.target is not null then endpoint.id::text = event.target
          else (endpoint.product_id is null or endpoint.product_id = event.product_id)
            and (endpoint.tenant_id is null or endpoint.tenant_id = event.tenant_id)
            and (cardinality(endpoint.event_types) = 0 or event.type = any(endpoint.event_types)) end
        )
      on conflict (endpoint_id, event_id) do nothing
      returning 1`,
  };
}

/**
 * Claims due deliveries for this node with a lease, each with its event: at most
 * `limit`, and per endpoint no more than `perEndpoint` times its `maxConcurrency`
 * minus what this node already holds (queued or in flight), so a node keeps a short
 * local queue per endpoint instead of asking the database for every freed slot. An ordered endpoint only offers each tenant's earliest pending
 * delivery. Candidates are read without locks (locking the whole window was most of
 * PostgreSQL's work in a burst); only the chosen rows are locked (SKIP LOCKED) and
 * checked again, so two nodes never take the same delivery nor wait for each other.
 */
export async function claimDeliveries(
  db: Db,
  options: {
    now: Date;
    leaseMs: number;
    node: string;
    limit: number;
    perEndpoint: number;
    held: Map<string, number>;
    /** Deliveries this node still holds (queued, in flight, result not yet written): never claimed twice. */
    holding: string[];
  },
): Promise<ClaimedDelivery[]> {
  const busy = [...options.held.entries()];
  // Not prepared: PostgreSQL's generic plan for this claim cut the events bench's deliveries/s by a third.
  // In a burst the table's statistics lag far behind (58 rows estimated, 48,000 there), and the planner
  // reads every due row with a bitmap scan to sort them for the first 500 (22 ms a claim); the due
  // index already holds them in order, so the claim runs with bitmap scans off. Measured in the events
  // bench: 2,889 deliveries/s before, 5,912 with this and the row-by-row endpoint check, 1,978 with
  // that check but bitmap scans on.
  return db.transaction().execute(async (tx) => {
    await sql`set local enable_bitmapscan = off`.execute(tx);
    return claimDueDeliveries(tx, options, busy);
  });
}

async function claimDueDeliveries(
  db: Db,
  options: Parameters<typeof claimDeliveries>[1],
  busy: [string, number][],
): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<ClaimedDelivery>`
    with candidates as (
      -- The due index gives the rows in order; the endpoint is checked row by row (a scalar
      -- subquery, never turned into a join) so the scan stops at the limit instead of sorting them all.
      select delivery.id, delivery.endpoint_id, delivery.next_attempt_at, delivery.event_position
      from webhook_deliveries delivery
      where delivery.status = 'pending'
        and delivery.next_attempt_at <= ${options.now}
        and (delivery.lease_until is null or delivery.lease_until < ${options.now})
        and delivery.id <> all(${options.holding}::uuid[])
        and coalesce((
          select endpoint.enabled and (not endpoint.ordered or not exists (
            select 1 from webhook_deliveries earlier
            where earlier.endpoint_id = delivery.endpoint_id
              and earlier.tenant_id is not distinct from delivery.tenant_id
              and earlier.status = 'pending'
              and earlier.event_position < delivery.event_position))
          from webhook_endpoints endpoint where endpoint.id = delivery.endpoint_id), false)
      order by delivery.next_attempt_at
      limit ${options.limit}
    ),
    ranked as (
      select candidates.id, candidates.endpoint_id,
        row_number() over (partition by candidates.endpoint_id order by candidates.next_attempt_at, candidates.event_position) as rank
      from candidates
    ),
    chosen as (
      select ranked.id from ranked
      join webhook_endpoints endpoint on endpoint.id = ranked.endpoint_id
      left join unnest(${busy.map(([id]) => id)}::uuid[], ${busy.map(([, n]) => n)}::int[]) as busy(endpoint_id, n)
        on busy.endpoint_id = ranked.endpoint_id
      where ranked.rank <= endpoint.max_concurrency * ${options.perEndpoint} - coalesce(busy.n, 0)
      limit ${options.limit}
    ),
    -- Only the chosen rows are locked, skipping any another node holds (so two claims never wait
    -- on each other, nor deadlock); each is checked again as it is now: a node that claimed it meanwhile wins.
    locked as (
      select delivery.id from webhook_deliveries delivery
      where delivery.id in (select id from chosen)
        and delivery.status = 'pending' and (delivery.lease_until is null or delivery.lease_until < ${options.now})
      for update skip locked
    )
    update webhook_deliveries delivery
    set lease_until = ${new Date(options.now.getTime() + options.leaseMs)}, leased_by = ${options.node}
    from locked, events event
    where delivery.id = locked.id and event.id = delivery.event_id
    returning delivery.*, to_jsonb(event.*) as event`.execute(db);
  return rows;
}

/** The outcome of one attempt, as the dispatcher records it. */
export interface AttemptResult {
  deliveryId: string;
  endpointId: string;
  /** The endpoint answered 410 Gone: it is disabled at once. */
  gone: boolean;
  at: Date;
  requestHeaders: Record<string, string>;
  status: number | null;
  responseBody: string | null;
  durationMs: number;
  error: string | null;
  /** The delivery after this attempt. */
  outcome: 'delivered' | 'retry' | 'failed';
  nextAttemptAt: Date | null;
}

/**
 * Writes a batch of attempt results in two statements: the attempts, and the
 * deliveries' new state. A delivery no longer leased by `node` (resent or replayed
 * while this attempt was in flight) keeps its new state; only the attempt is logged.
 */
export async function recordAttempts(db: Db, node: string, results: AttemptResult[]): Promise<void> {
  if (results.length === 0) return;
  await db
    .insertInto('webhook_attempts')
    .values(
      results.map((result) => ({
        delivery_id: result.deliveryId,
        at: result.at,
        request_headers: JSON.stringify(result.requestHeaders),
        response_status: result.status,
        response_body: result.responseBody,
        duration_ms: result.durationMs,
        error: result.error,
      })),
    )
    .execute();
  await executePrepared(
    db,
    sql`
    update webhook_deliveries delivery
    set attempts = delivery.attempts + 1,
      status = result.outcome,
      next_attempt_at = coalesce(result.next_attempt_at, delivery.next_attempt_at),
      delivered_at = case when result.outcome = 'delivered' then result.at else delivery.delivered_at end,
      last_status = result.status,
      last_error = result.error,
      lease_until = null,
      leased_by = null
    from unnest(
      ${results.map((result) => result.deliveryId)}::uuid[],
      ${results.map((result) => (result.outcome === 'retry' ? 'pending' : result.outcome))}::text[],
      ${results.map((result) => result.nextAttemptAt)}::timestamptz[],
      ${results.map((result) => result.at)}::timestamptz[],
      ${results.map((result) => result.status)}::int[],
      ${results.map((result) => result.error)}::text[]
    ) as result(id, outcome, next_attempt_at, at, status, error)
    where delivery.id = result.id and delivery.leased_by = ${node}`,
  );
}

/** Frees the deliveries dead nodes had claimed, so another node sends them at once. */
export async function releaseDeliveryLeases(db: Db, nodeIds: string[]): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ lease_until: null, leased_by: null })
    .where('leased_by', 'in', nodeIds)
    .where('status', '=', 'pending')
    .execute();
}
