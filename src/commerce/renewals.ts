/**
 * The renewals sweep: everything time does to subscriptions — starts, trial notices and ends, renewals of every
 * missed boundary in order, cancellations at period end, expiries — for the subscriptions that are due, as of
 * each product's commerce clock. A claimed batch is renewed in one transaction with set-based SQL (the claim,
 * then one statement for all periods, invoices, lines, events and updates); if that batch fails, its
 * subscriptions are retried one per transaction, so one that cannot renew is recorded as failing — retried with
 * backoff, counted in `/metrics`, told once per streak as `subscription.renewal_failed` — and blocks no other.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import { DEFAULT_RENEWAL_BATCH_SIZE } from '../config/config.ts';
import type { Db } from '../db/database.ts';
import { recordEvent } from '../events/events.repo.ts';
import type { Sweep } from '../jobs/sweeper.ts';
import type { Clock } from '../platform/clock.ts';
import type { Services } from '../routes.ts';
import { type Advance, advanceSubscription } from './subscription-engine.ts';
import { nextActionOf, type SubscriptionRow, stateOf, subscriptionView } from './subscription-state.ts';
import { applyAdvances, encodeAdvances, writeAdvances } from './subscriptions.writer.ts';

/** What the renewals sweep needs. */
export interface RenewalDeps {
  db: Db;
  clock: Clock;
  /** Backoff of a failing subscription: base × 2^(failures − 1), at most an hour. */
  retryBaseMs: number;
  intervalMs: number;
  batchSize?: number;
  metrics?: Registry;
}

type Claimed = SubscriptionRow & { clock_offset_ms: number };

const MAX_BACKOFF_MS = 60 * 60 * 1000;
const counters = new WeakMap<Registry, Counter<'outcome'>>();

function renewalCounter(registry: Registry | undefined): Counter<'outcome'> | undefined {
  if (!registry) return undefined;
  let counter = counters.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'landlord_subscription_renewals_total',
      help: 'Subscriptions the renewals sweep advanced (`renewed`) or failed to (`failed`)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    counters.set(registry, counter);
  }
  return counter;
}

/** Where a pass of the sweep has got to in the due index: the last claimed (due time, id). */
export interface SweepCursor {
  at: Date;
  id: string;
}

/** How a claim is made: for one product only, waiting for rows others hold, or after a cursor. */
interface ClaimOptions {
  productId?: string;
  wait?: boolean;
  cursor?: { value: SweepCursor | undefined };
}

/** The due condition of a subscription `s` joined with its product's billing `b`, as of real time `now`. */
function dueAt(now: Date) {
  return sql`s.next_action_at <= ${now}::timestamptz + (select coalesce(max(clock_offset_ms), 0) from product_billing) * interval '1 millisecond'
      and s.next_action_at <= ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond'
      -- A period-end plan change in flight holds its boundary's renewal until it resolves (ADR 0009).
      and not exists (select 1 from subscription_changes c where c.subscription_id = s.id and c.timing = 'period_end'
        and c.status in ('scheduled', 'calling', 'awaiting_report')
        and c.effective_at <= ${now}::timestamptz + coalesce(b.clock_offset_ms, 0) * interval '1 millisecond')`;
}

/**
 * Claims up to `limit` due subscriptions: due when their next action is at or before the product's commerce now.
 * The tenants are locked first, then the subscriptions — the order every plan change's settlement takes (tenant,
 * change, subscription; ADR 0009) — so a renewal and a change of the same subscription wait for each other
 * instead of deadlocking. Without `wait`, rows another node or a settlement holds are skipped (in due order, so two
 * lanes take different rows); with it, the tenants are locked in id order, waiting. With a cursor, only rows after
 * it in (due time, id) order: a renewed subscription leaves a dead entry at its old due time in the index, and
 * while other transactions run (the other lane, the event sequencer) those entries cannot be pruned, so claims
 * that start from the front rescan every renewal of the pass — O(n²) over a burst of 100,000.
 */
async function claimDue(db: Db, now: Date, limit: number, options: ClaimOptions = {}): Promise<Claimed[]> {
  const after = options.cursor?.value;
  const scope = sql`${options.productId ? sql`and s.product_id = ${options.productId}::uuid` : sql``}
      ${after ? sql`and (s.next_action_at, s.id) > (${after.at}::timestamptz, ${after.id}::uuid)` : sql``}`;
  // The row lock a renewal's write takes on its tenant anyway (events numbered, plan mirrored): foreign keys may still point at it.
  const tenants = await sql<{ id: string }>`
    select t.id from subscriptions s join tenants t on t.id = s.tenant_id left join product_billing b on b.product_id = s.product_id
    where ${dueAt(now)} ${scope}
    order by ${options.wait ? sql`t.id` : sql`s.next_action_at, s.id`}
    limit ${limit}
    for no key update of t ${options.wait ? sql`` : sql`skip locked`}`.execute(db);
  if (tenants.rows.length === 0) {
    if (options.cursor) options.cursor.value = undefined;
    return [];
  }
  // Checked again now that the tenants are held: a renewal that committed meanwhile moved its subscription on.
  // The limit bounds the scan whichever index the planner takes: with the statistics of before a burst it walks the
  // due index in order, filtering on the tenants — without a limit to the end of everything still due (O(n²) over a
  // burst: 75,000 buffers and 47 ms a claim at 100,000 due), with it only as far as the first query went.
  const result = await sql<Claimed>`
    select s.*, coalesce(b.clock_offset_ms, 0)::bigint as clock_offset_ms
    from subscriptions s left join product_billing b on b.product_id = s.product_id
    where s.tenant_id = any(${tenants.rows.map((row) => row.id)}::uuid[]) and ${dueAt(now)} ${scope}
    order by s.next_action_at, s.id
    limit ${limit}
    for update of s ${options.wait ? sql`` : sql`skip locked`}`.execute(db);
  const cursor = options.cursor;
  const last = result.rows.at(-1);
  if (cursor) {
    // A short batch ends the pass: the next one starts from the front again (rows skipped as locked, retries).
    if (tenants.rows.length < limit || !last) cursor.value = undefined;
    else if (last.next_action_at && (!cursor.value || isAfter(last, cursor.value))) cursor.value = { at: last.next_action_at, id: last.id };
  }
  return result.rows;
}

function isAfter(row: Claimed, cursor: SweepCursor): boolean {
  const at = row.next_action_at?.getTime() ?? 0;
  return at > cursor.at.getTime() || (at === cursor.at.getTime() && row.id > cursor.id);
}

/** What is due for each claimed row; a row with nothing due (its due time is stale) gets its next action fixed. */
function advancesOf(rows: Claimed[], now: Date): { advances: Advance[]; stale: Claimed[] } {
  const advances: Advance[] = [];
  const stale: Claimed[] = [];
  for (const row of rows) {
    const advance = advanceSubscription(stateOf(row), new Date(now.getTime() + Number(row.clock_offset_ms)));
    if (advance) advances.push(advance);
    else stale.push(row);
  }
  return { advances, stale };
}

/** A claimed batch worked out and encoded for its statement, its rows and advances left behind. */
async function workOut(rows: Claimed[], now: Date) {
  const { advances, stale } = advancesOf(rows, now);
  // Working out a batch is milliseconds of JavaScript: requests that arrived meanwhile go first.
  await nextTurn();
  return { encoded: await encodeAdvances(advances), stale, count: advances.length };
}

async function fixStale(db: Db, rows: Claimed[]): Promise<void> {
  for (const row of rows) {
    await db
      .updateTable('subscriptions')
      .set({ next_action_at: nextActionOf(stateOf(row)) })
      .where('id', '=', row.id)
      .execute();
  }
}

/**
 * Locks one subscription with its tenant, the tenant first (the order of `claimDue`), waiting for both: with that
 * order nothing that holds one of them waits for this transaction, and a renewal that failed in its batch is
 * retried (or recorded as failing) now rather than skipped because its tenant was busy for a moment.
 */
async function lockOne(db: Db, id: string) {
  const tenant = await sql`select t.id from tenants t join subscriptions s on s.tenant_id = t.id where s.id = ${id}::uuid
    for no key update of t`.execute(db);
  if (tenant.rows.length === 0) return { rows: [] as Claimed[] };
  return sql<Claimed>`
    select s.*, coalesce(b.clock_offset_ms, 0)::bigint as clock_offset_ms
    from subscriptions s left join product_billing b on b.product_id = s.product_id
    where s.id = ${id}::uuid for update of s`.execute(db);
}

/** Records a subscription's failed renewal in its own transaction: the streak, the backoff, one event per streak. */
async function recordFailure(db: Db, id: string, error: unknown, now: Date, retryBaseMs: number): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await db.transaction().execute(async (tx) => {
    const [row] = (await lockOne(tx, id)).rows;
    if (!row) return;
    const failures = row.renewal_failures + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** Math.min(failures - 1, 30));
    // The retry is due on the product's own clock (a sandbox clock runs ahead of real time).
    const retryAt = new Date(now.getTime() + Number(row.clock_offset_ms) + backoff);
    await tx
      .updateTable('subscriptions')
      .set({
        renewal_failures: failures,
        renewal_failed_at: now,
        renewal_error: message.slice(0, 1000),
        next_action_at: retryAt,
      })
      .where('id', '=', id)
      .execute();
    if (failures === 1) {
      await recordEvent(tx, {
        type: 'subscription.renewal_failed',
        productId: row.product_id,
        tenantId: row.tenant_id,
        occurredAt: now,
        data: { subscription: subscriptionView(stateOf(row)), error: message.slice(0, 1000) },
      });
    }
  });
}

/**
 * One pass over at most `limit` due subscriptions: the batch in one transaction, or — when it fails — each on its
 * own. Returns how many subscriptions were claimed.
 */
export async function renewDue(deps: RenewalDeps, limit: number, options: ClaimOptions = {}): Promise<number> {
  const { db, clock } = deps;
  const now = clock.now();
  const counter = renewalCounter(deps.metrics);
  let claimedIds: string[] = [];
  try {
    const renewed = await db.transaction().execute(async (tx) => {
      const rows = await claimDue(tx, now, limit, options);
      claimedIds = rows.map((row) => row.id);
      // Only the JSON (and the rare stale row) outlives the work-out: nothing else of the batch is live while its
      // statement runs (`encodeAdvances`).
      const { encoded, stale, count } = await workOut(rows, now);
      if (encoded) await writeAdvances(tx, encoded, now);
      await fixStale(tx, stale);
      return count;
    });
    counter?.inc({ outcome: 'renewed' }, renewed);
    return claimedIds.length;
  } catch (batchError) {
    if (claimedIds.length === 0) throw batchError;
  }
  // The batch failed as a whole: one transaction per subscription finds the one(s) at fault.
  for (const id of claimedIds) {
    try {
      await db.transaction().execute(async (tx) => {
        const row = await lockOne(tx, id);
        const { advances, stale } = advancesOf(row.rows, now);
        await applyAdvances(tx, advances, now);
        await fixStale(tx, stale);
        counter?.inc({ outcome: 'renewed' }, advances.length);
      });
    } catch (error) {
      counter?.inc({ outcome: 'failed' });
      await recordFailure(db, id, error, now, deps.retryBaseMs);
    }
  }
  return claimedIds.length;
}

/** The renewal settings of a node. */
export function renewalDeps(services: Services): RenewalDeps {
  const { db, clock, config, metrics } = services;
  return { db, clock, retryBaseMs: config.retryBaseMs, intervalMs: config.workerPollMs, batchSize: config.renewalBatchSize, metrics };
}

// Two batches in flight per node: while one commits, the next is claimed and worked out in JavaScript, so neither
// the database nor the process waits on the other (0.28× → see bench/RESULTS.md). They never claim the same rows
// (SKIP LOCKED); their writes queue briefly on the product's invoice counter row, which keeps numbers gapless.
const LANES = 2;

// Each lane goes on with its next batch as soon as its last one committed, up to this many per pass of the sweep,
// rather than both waiting for the slower one after every batch: the lanes drift apart, so one writes while the
// other claims and works out its batch (0.40–0.43× → 0.46–0.49× on a quiet machine). The bound keeps a pass short
// enough for the sweep to stop promptly.
const ROUNDS = 4;

/** The renewals sweep, one entry of `buildSweeps`. */
export function renewalsSweep(deps: RenewalDeps): Sweep {
  const batchSize = deps.batchSize ?? DEFAULT_RENEWAL_BATCH_SIZE;
  const lane = Math.max(1, Math.ceil(batchSize / LANES));
  const cursor: { value: SweepCursor | undefined } = { value: undefined };
  const runLane = async () => {
    let total = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const handled = await renewDue(deps, lane, { cursor });
      total += handled;
      if (handled < lane) break;
    }
    return total;
  };
  return {
    name: 'renewals',
    intervalMs: deps.intervalMs,
    batchSize: lane * LANES * ROUNDS,
    sweepOnce: async () => {
      const handled = await Promise.all(Array.from({ length: LANES }, runLane));
      const total = handled.reduce((sum, count) => sum + count, 0);
      // The pass ends here: the next starts from the front of the due index.
      if (total < lane * LANES * ROUNDS) cursor.value = undefined;
      return total;
    },
  };
}

/**
 * Renews everything due for one product up to its commerce clock, batch after batch (a sandbox clock's advance).
 * The last pass waits for rows another node's sweep holds instead of skipping them, so that when this returns
 * nothing due is left — not even what was being renewed elsewhere as of the old clock.
 */
export async function renewProductNow(deps: RenewalDeps, productId: string): Promise<number> {
  const batchSize = deps.batchSize ?? DEFAULT_RENEWAL_BATCH_SIZE;
  let total = 0;
  for (let wait = false; ; ) {
    const handled = await renewDue(deps, batchSize, { productId, wait });
    total += handled;
    if (handled === batchSize) continue;
    if (wait && handled === 0) return total;
    wait = true;
  }
}
