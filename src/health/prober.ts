import type { Db } from '../db/database.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { createApiKeyCache, createLimits, sendProbe, targetOf } from './probe.ts';
import { type ProbeOutcome, recordProbeOutcomes } from './probe-results.ts';
import { type ClaimedProbe, claimDueProbes, releaseProbes } from './probes.repo.ts';

/** What the prober needs. */
export interface ProberDeps {
  db: Db;
  http: OutboundHttp;
  box: SecretBox;
  clock: Clock;
  nodeId: string;
  /** Probes this node runs at once, and at once per product and per backend host. */
  concurrency: number;
  perProduct: number;
  perHost: number;
  onError: (error: unknown) => void;
}

/** What one round (or the prober so far) did. */
export interface ProbeCounts {
  probed: number;
  healthy: number;
  failed: number;
  /** Leased but handed back unprobed (the lease was too short to start, or the node stopped). */
  released: number;
  /** Results written back (a result whose lease was lost meanwhile is not). */
  applied: number;
}

/** A node's prober: claims due tenants, probes them within the bounds, writes results back in batches. */
export interface ProbeEngine {
  /** Claims and starts as many due probes as there is room for (the running loop calls this on every tick). */
  pump(): Promise<void>;
  /** Probes everything due by the clock's now, waits for every result to be written, and returns the counts. */
  drain(): Promise<ProbeCounts>;
  counts(): ProbeCounts;
  /** Stops claiming, lets running probes finish and writes their results. */
  stop(): Promise<void>;
}

// Results are written in batches of at least this many (all that wait), or after this long.
const FLUSH_AT = 250;
const FLUSH_MAX = 500;
const FLUSH_MS = 50;
// A claim asks for at most this many rows.
const CLAIM_BATCH = 256;
// Rows are claimed ahead of the probes running, up to this many times the concurrency, so the
// probes never wait for a claim; a claimed row waits at most a few probe times for its slot.
const CLAIM_AHEAD = 2;
// Claiming pauses while this many results wait to be written (the database is the bottleneck then).
const MAX_UNWRITTEN = 4000;
// A probe starts only if its lease outlives its timeout by this much.
const START_MARGIN_MS = 1000;
const NODE_KEY = 'node';

/**
 * Creates a prober. Probes run concurrently, at most `concurrency` on this node and
 * `perProduct` / `perHost` at once per product and backend host (connections are
 * pooled per origin by the OutboundHttp given). A leased tenant waiting for a slot is
 * handed back instead of probed if its lease could run out mid-probe, so another
 * node never probes it at the same time.
 */
export function createProbeEngine(deps: ProberDeps): ProbeEngine {
  const limits = createLimits();
  const apiKeyOf = createApiKeyCache(deps.box);
  const running = new Set<Promise<void>>();
  const totals: ProbeCounts = { probed: 0, healthy: 0, failed: 0, released: 0, applied: 0 };
  const outcomes: ProbeOutcome[] = [];
  let handBack: ClaimedProbe[] = [];
  let chain: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  // The claim loop running now, if any: a round's drain waits for it, as its tenants belong to the round.
  let pumping: Promise<void> | undefined;
  // Whether the last claim came back full: more rows may be due right now.
  let backlog = false;
  let stopped = false;

  const flush = (): Promise<void> => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    chain = chain.then(async () => {
      // At most FLUSH_MAX rows per statement: building a bigger one would hold the event loop (and API reads) too long.
      const batch = outcomes.splice(0, FLUSH_MAX);
      const released = handBack;
      handBack = [];
      if (outcomes.length) void flush();
      try {
        if (batch.length) totals.applied += (await recordProbeOutcomes(deps.db, deps.nodeId, batch)).size;
        if (released.length) await releaseProbes(deps.db, deps.nodeId, released);
      } catch (error) {
        // The leases run out and the tenants are probed again: nothing is lost but time.
        deps.onError(error);
      }
    });
    return chain;
  };
  // Everything written, including the follow-up flushes a large backlog takes.
  const flushAll = async (): Promise<void> => {
    do await flush();
    while (outcomes.length || handBack.length);
    await chain;
  };
  const scheduleFlush = () => {
    if (outcomes.length + handBack.length >= FLUSH_AT) void flush();
    else if (!flushTimer) {
      flushTimer = setTimeout(() => void flush(), FLUSH_MS);
      flushTimer.unref();
    }
  };

  const probeOne = async (probe: ClaimedProbe): Promise<void> => {
    const target = targetOf(probe);
    if (!target) {
      outcomes.push({ probe, verdict: null, at: deps.clock.now() });
      return;
    }
    const productKey = `product:${probe.productId}`;
    const hostKey = `host:${target.host}`;
    // Always in this order (node, product, host), so waiters cannot block each other in a cycle.
    await limits.acquire(NODE_KEY, deps.concurrency);
    await limits.acquire(productKey, deps.perProduct);
    await limits.acquire(hostKey, deps.perHost);
    try {
      const timeoutMs = probe.settings.timeoutSeconds * 1000;
      if (stopped || deps.clock.now().getTime() + timeoutMs + START_MARGIN_MS > probe.leaseUntil.getTime()) {
        handBack.push(probe);
        totals.released += 1;
        return;
      }
      const verdict = await sendProbe(deps.http, target, apiKeyOf(probe), timeoutMs);
      totals.probed += 1;
      totals[verdict.healthy ? 'healthy' : 'failed'] += 1;
      outcomes.push({ probe, verdict, at: deps.clock.now() });
    } finally {
      limits.release(hostKey);
      limits.release(productKey);
      limits.release(NODE_KEY);
    }
  };

  const start = (probe: ClaimedProbe) => {
    const task: Promise<void> = probeOne(probe)
      .catch(deps.onError)
      .finally(() => {
        running.delete(task);
        scheduleFlush();
        // A finished probe makes room; it claims at once only while due rows are waiting (a
        // backlog), otherwise the next tick claims, so light load costs a claim per tick, not per probe.
        if (!stopped && backlog && room() >= claimThreshold()) void pump();
      });
    running.add(task);
  };
  const room = () => CLAIM_AHEAD * deps.concurrency - running.size;
  const claimThreshold = () => Math.max(1, Math.floor(deps.concurrency / 4));

  const claim = async (limit: number): Promise<number> => {
    const claimed = await claimDueProbes(deps.db, { nodeId: deps.nodeId, now: deps.clock.now(), limit });
    backlog = claimed.length === limit;
    for (const probe of claimed) start(probe);
    return claimed.length;
  };

  const claimWhileBacklogged = async (): Promise<void> => {
    try {
      // Keep claiming while whole batches come back (a backlog) and there is room.
      while (!stopped && room() >= claimThreshold() && outcomes.length < MAX_UNWRITTEN) {
        const limit = Math.min(room(), CLAIM_BATCH);
        if ((await claim(limit)) < limit) break;
      }
    } catch (error) {
      deps.onError(error);
    }
  };
  const pump = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (pumping) return pumping;
    const run = claimWhileBacklogged();
    pumping = run;
    // Cleared once settled (a callback, so never before it was set); its failure is the awaiting caller's to see.
    run
      .finally(() => {
        if (pumping === run) pumping = undefined;
      })
      .catch(() => undefined);
    return run;
  };

  return {
    pump,
    async drain() {
      const before = { ...totals };
      for (;;) {
        const claimed = await claim(Math.max(1, room()));
        // A finished probe may have started a claim of its own meanwhile: what it claims is this round's too.
        while (running.size > 0 || pumping) await Promise.all([...running, pumping]);
        await flushAll();
        if (claimed === 0 && running.size === 0 && !pumping) break;
      }
      return {
        probed: totals.probed - before.probed,
        healthy: totals.healthy - before.healthy,
        failed: totals.failed - before.failed,
        released: totals.released - before.released,
        applied: totals.applied - before.applied,
      };
    },
    counts: () => ({ ...totals }),
    async stop() {
      stopped = true;
      while (running.size) await Promise.all(running);
      await flushAll();
    },
  };
}

/**
 * Probes every tenant due by `deps.clock` and records the results, then returns.
 * Tests drive health with it under a manual clock; the running loop does the same
 * work continuously (`startProber`).
 */
export async function runProbeRound(deps: ProberDeps): Promise<ProbeCounts> {
  return createProbeEngine(deps).drain();
}

/** A running prober loop. */
export interface Prober {
  engine: ProbeEngine;
  stop(): Promise<void>;
}

/** Starts the prober loop: every `tickMs`, and whenever probes finish, it claims what is due. */
export function startProber(deps: ProberDeps, tickMs: number): Prober {
  const engine = createProbeEngine(deps);
  const timer = setInterval(() => void engine.pump(), tickMs);
  timer.unref();
  void engine.pump();
  return {
    engine,
    async stop() {
      clearInterval(timer);
      await engine.stop();
    },
  };
}
