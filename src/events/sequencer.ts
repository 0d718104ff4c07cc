import { type RawBuilder, sql } from 'kysely';
import { type Db, executePrepared } from '../db/database.ts';
import { type Listener, notifyIfAny } from '../db/listener.ts';
import { recentIdFloor } from '../platform/ids.ts';
import type { Component } from '../platform/supervisor.ts';
import { EVENTS_CHANNEL } from './events.repo.ts';
import { SEQUENCE_CHANNEL } from './nudge.ts';

// Any fixed number; at most one node sequences at a time.
const SEQUENCER_LOCK = 7_305_003;
const BATCH = 2000;
const COALESCE_MS = 15;
/**
 * Most passes look only at events whose ids were made in the last `RECENT_MS` (ids are time-ordered, `recentIdFloor`);
 * a full pass, from the first id, runs at least every `FULL_PASS_MS`. Sequenced events leave dead entries at the
 * front of the pending queue's index until a vacuum, so a pass from the front walks every event sequenced since: during a
 * burst of 100,000 renewals (300,000 events) that was 3–28 ms a pass, growing with the burst. An event that
 * commits more than `RECENT_MS` after its id was made (or comes from a node whose clock is that far behind) waits
 * for the next full pass: it is delayed, never skipped.
 */
const RECENT_MS = 2_000;
const FULL_PASS_MS = 1_000;

/**
 * What is derived from a batch of events in the statement that gives them their positions (their webhook
 * deliveries): a data-modifying statement over the relation `sequenced` — each event's `id`, `type`, `product_id`,
 * `tenant_id`, `position` and `target` (the one endpoint a `webhook_endpoint.test` event is for) — that returns a
 * row per row it made; when it made any, `channel` is notified at commit. Made afresh for each pass (it may read the
 * clock). In the statement, not in Node: a burst of 100,000 renewals sequences 300,000 events, and shipping each back
 * to Node only to send it again as six arrays cost a round trip per pass and most of the sequencer's garbage.
 */
export interface Derivation {
  statement: () => RawBuilder<unknown>;
  channel: string;
}

/**
 * Gives committed events their feed positions, in batches, under an advisory lock so
 * that one node at a time does it: takes them from `events_pending` (where every insert
 * into `events` queues them) and writes their rows of `event_feed`. An event is visible to the sequencer only once
 * the transaction that wrote it committed, and positions only grow, so a reader that
 * has seen position P will never find a new event at or below P. The derivation runs
 * in the same statement: what it derives from the events (their deliveries)
 * commits with their positions, exactly once.
 *
 * With `from`, only events whose ids sort at or above it are looked at (a recent pass, see `startSequencer`).
 */
export async function sequenceEvents(db: Db, derivation: Derivation, from?: string): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${SEQUENCER_LOCK}) as locked`.execute(tx);
    if (!rows[0]?.locked) return 0;
    // The batch leaves the queue and enters the feed in one statement, numbered from the feed's top in id order. The
    // queue carries what the feed and the deliveries need of each event: its row is written once and never read here.
    const [counts] = await executePrepared(
      tx,
      sql<{ events: number }>`
      with top as (select coalesce(max(position), 0) as position from event_feed),
      taken as (
        delete from events_pending where id in (
          select id from events_pending ${from ? sql`where id >= ${from}::uuid` : sql``} order by id limit ${BATCH})
        returning id, type, product_id, tenant_id, target
      ),
      sequenced as (
        select taken.*, top.position + row_number() over (order by taken.id) as position from taken, top
      ),
      fed as (
        insert into event_feed (position, event_id, product_id, tenant_id, type)
        select position, id, product_id, tenant_id, type from sequenced
      ),
      derived as (${derivation.statement()})
      select (select count(*) from sequenced)::int as events,
        ${notifyIfAny(derivation.channel, 'derived')} as notified`,
    );
    return counts?.events ?? 0;
  });
}

/** The running sequencer of a node. */
export interface Sequencer {
  /** Sequences everything pending now (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the sequencer on this node: woken at once by the NOTIFY every recorded event
 * sends (at commit) or a nudge sends after it (`nudge.ts`), and every `idleMs` in case a notification was missed.
 */
export async function startSequencer(options: {
  db: Db;
  listener: Listener;
  derivation: Derivation;
  idleMs?: number;
  /** How long a wake-up waits for more events before a pass. */
  coalesceMs?: number;
  onError: (error: unknown) => void;
}): Promise<Sequencer> {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let lastFullPassAt = Number.NEGATIVE_INFINITY;
  let fullAsked = false;

  // Where a pass starts: from the first id when asked (drain) or when the last full pass is `FULL_PASS_MS` old, else
  // from the ids of the last `RECENT_MS`. Full passes are paced by the monotonic timer, like the coalescing wait.
  const startOfPass = (): string | undefined => {
    const now = performance.now();
    if (!fullAsked && now - lastFullPassAt < FULL_PASS_MS) return recentIdFloor(RECENT_MS);
    fullAsked = false;
    lastFullPassAt = now;
    return undefined;
  };

  const passes = async (full: boolean): Promise<void> => {
    if (full) fullAsked = true;
    // One pass at a time; a wake-up during a pass asks for another.
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        const from = startOfPass();
        while ((await sequenceEvents(options.db, options.derivation, from)) === BATCH) {}
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  // A wake-up waits a few milliseconds for the events committing alongside, so that one
  // pass (four round trips, whatever its size) sequences many of them, not one each.
  let waking: NodeJS.Timeout | undefined;
  const wake = () => {
    if (stopped || waking) return;
    waking = setTimeout(() => {
      waking = undefined;
      if (!stopped) passes(false).catch(options.onError);
    }, options.coalesceMs ?? COALESCE_MS);
  };

  const unlisten = await options.listener.on(EVENTS_CHANNEL, wake);
  const unlistenNudges = await options.listener.on(SEQUENCE_CHANNEL, wake);
  const timer = setInterval(wake, options.idleMs ?? 500);
  timer.unref();
  wake();
  return {
    drain: () => passes(true),
    async stop() {
      stopped = true;
      unlisten();
      unlistenNudges();
      clearInterval(timer);
      clearTimeout(waking);
      await running?.catch(() => {});
    },
  };
}

/** The sequencer as a supervised component (`event-sequencer`): a failed pass stops it, and the supervisor starts another. */
export function sequencerComponent(options: { db: Db; listener: Listener; derivation: Derivation }): Component {
  return {
    name: 'event-sequencer',
    start: (fail) => startSequencer({ ...options, onError: fail }),
  };
}
