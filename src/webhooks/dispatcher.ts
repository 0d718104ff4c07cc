import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { Component } from '../platform/supervisor.ts';
import { type AttemptResult, type ClaimedDelivery, claimDeliveries, DELIVERIES_CHANNEL, recordAttempts } from './deliveries.repo.ts';
import { settleEndpoints } from './endpoint-health.ts';
import type { EndpointRow } from './endpoints.repo.ts';
import { signingSecrets } from './endpoints.service.ts';
import { MAX_ATTEMPTS, nextDelayMs } from './retry-schedule.ts';
import { signDelivery } from './signing.ts';

/** What the dispatcher needs. */
export interface DispatcherDeps {
  db: Db;
  box: SecretBox;
  clock: Clock;
  http: OutboundHttp;
  nodeId: string;
  /** Timeout of one delivery attempt. */
  timeoutMs: number;
  onError: (error: unknown) => void;
  random?: () => number;
}

/** Response bodies are kept up to 16 KiB per attempt. */
export const KEPT_BODY_BYTES = 16 * 1024;
const CLAIM_LIMIT = 500;
// Deliveries held per endpoint (queued + in flight), in multiples of its concurrency:
// enough to keep it busy between claims, few enough to stay well inside the lease.
const HELD_PER_SLOT = 4;
const FLUSH_AT = 200;
const FLUSH_MS = 20;

/** A node's webhook dispatcher. */
export interface Dispatcher {
  /** Claims what is due now (within each endpoint's allowance) and starts sending; resolves with how many were claimed. */
  runRound(): Promise<number>;
  /** Waits until everything held is sent and recorded. */
  settle(): Promise<void>;
}

/**
 * Sends webhook deliveries. Due deliveries are claimed with a lease, each endpoint
 * getting a short local queue (`HELD_PER_SLOT` × its concurrency); sends start as the
 * endpoint's slots free up, each signed per Standard Webhooks and posted through the
 * egress-checked client; results are recorded in batches. A delivery held by a node
 * that dies is released when the node is found dead, or when its lease runs out.
 */
export function createDispatcher(deps: DispatcherDeps, onSlotFreed: () => void = () => {}): Dispatcher {
  const queues = new Map<string, ClaimedDelivery[]>();
  const inFlight = new Map<string, number>();
  const endpoints = new Map<string, { row: EndpointRow; secrets: string[] }>();
  const sending = new Set<Promise<void>>();
  // Ids of deliveries claimed and not yet recorded: this node must not claim them again
  // even if their lease ran out meanwhile.
  const holding = new Set<string>();
  let results: AttemptResult[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  // A queued delivery waits at most HELD_PER_SLOT sends of its endpoint, each bounded by the timeout.
  const leaseMs = deps.timeoutMs * (HELD_PER_SLOT + 1) + 15_000;

  const held = (endpointId: string) => (queues.get(endpointId)?.length ?? 0) + (inFlight.get(endpointId) ?? 0);

  const flush = (): Promise<void> => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const batch = results;
    results = [];
    if (batch.length === 0) return flushing;
    flushing = flushing.then(() =>
      deps.db
        .transaction()
        .execute(async (tx) => {
          await recordAttempts(tx, deps.nodeId, batch);
          await settleEndpoints(tx, batch, deps.clock.now());
        })
        .catch(deps.onError)
        .finally(() => {
          for (const result of batch) holding.delete(result.deliveryId);
        }),
    );
    return flushing;
  };

  const send = async (delivery: ClaimedDelivery, endpoint: { row: EndpointRow; secrets: string[] }): Promise<void> => {
    const { event } = delivery;
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      occurredAt: new Date(event.occurred_at).toISOString(),
      productId: event.product_id,
      tenantId: event.tenant_id,
      tenantSequence: event.tenant_seq,
      data: event.data,
    });
    // The signed timestamp is wall-clock time: receivers check it against their own clocks.
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Landlord-Webhooks/0.1',
      ...signDelivery(endpoint.secrets, event.id, new Date(), body),
    };
    const response = await deps.http.send({
      method: 'POST',
      url: endpoint.row.url,
      headers,
      body,
      timeoutMs: deps.timeoutMs,
      maxResponseBytes: KEPT_BODY_BYTES,
      untrusted: true,
    });
    const at = deps.clock.now();
    const attempts = delivery.attempts + 1;
    const delivered = response.ok && response.status >= 200 && response.status < 300;
    const gone = response.ok && response.status === 410;
    const delay = delivered || gone ? undefined : nextDelayMs(attempts, deps.random ?? Math.random);
    results.push({
      deliveryId: delivery.id,
      endpointId: endpoint.row.id,
      gone,
      at,
      requestHeaders: headers,
      status: response.ok ? response.status : null,
      responseBody: response.ok ? response.body : null,
      durationMs: response.durationMs,
      error: response.ok ? (delivered ? null : `answered ${response.status}`) : response.error,
      outcome: delivered ? 'delivered' : delay !== undefined && attempts < MAX_ATTEMPTS ? 'retry' : 'failed',
      nextAttemptAt: delay !== undefined ? new Date(at.getTime() + delay) : null,
    });
    if (results.length >= FLUSH_AT) void flush();
    else flushTimer ??= setTimeout(() => void flush(), FLUSH_MS);
  };

  /** Starts as many queued sends as the endpoints' free slots allow. */
  const pump = () => {
    for (const [endpointId, queue] of queues) {
      const endpoint = endpoints.get(endpointId);
      if (!endpoint) continue;
      while (queue.length > 0 && (inFlight.get(endpointId) ?? 0) < endpoint.row.max_concurrency) {
        const delivery = queue.shift() as ClaimedDelivery;
        inFlight.set(endpointId, (inFlight.get(endpointId) ?? 0) + 1);
        const task = send(delivery, endpoint)
          .catch(deps.onError)
          .finally(() => {
            inFlight.set(endpointId, (inFlight.get(endpointId) ?? 1) - 1);
            sending.delete(task);
            pump();
            // Ask for more only when the local queue runs low, not on every send.
            if (held(endpointId) <= endpoint.row.max_concurrency * 2) onSlotFreed();
          });
        sending.add(task);
      }
    }
  };

  return {
    async runRound() {
      const heldNow = new Map([...new Set([...queues.keys(), ...inFlight.keys()])].map((id) => [id, held(id)]));
      const claimed = await claimDeliveries(deps.db, {
        now: deps.clock.now(),
        leaseMs,
        node: deps.nodeId,
        limit: CLAIM_LIMIT,
        perEndpoint: HELD_PER_SLOT,
        held: heldNow,
        holding: [...holding],
      });
      if (claimed.length === 0) return 0;
      // Endpoint settings (URL, secrets, concurrency) are read fresh on every claim.
      const ids = [...new Set(claimed.map((row) => row.endpoint_id))];
      const rows = await deps.db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
      const now = deps.clock.now();
      for (const row of rows) endpoints.set(row.id, { row, secrets: signingSecrets(row, deps.box, now) });
      for (const delivery of claimed) {
        holding.add(delivery.id);
        const queue = queues.get(delivery.endpoint_id) ?? [];
        queue.push(delivery);
        queues.set(delivery.endpoint_id, queue);
      }
      pump();
      return claimed.length;
    },
    async settle() {
      while (sending.size) await Promise.all([...sending]);
      await flush();
    },
  };
}

/**
 * Runs a dispatcher on this node: a claim whenever new deliveries are announced
 * (NOTIFY), whenever an endpoint's local queue runs low, and every `idleMs` for
 * retries that became due.
 */
export async function startDispatching(deps: DispatcherDeps, listener: Listener, options: { idleMs?: number } = {}) {
  let running = false;
  let again = false;
  let stopped = false;
  const loop = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        // Keep claiming while claims come back full: there is more waiting.
        while (!stopped && (await dispatcher.runRound()) >= CLAIM_LIMIT) {}
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  const wake = () => {
    if (!stopped) loop().catch(deps.onError);
  };
  const dispatcher = createDispatcher(deps, wake);
  const unlisten = await listener.on(DELIVERIES_CHANNEL, wake);
  const timer = setInterval(wake, options.idleMs ?? 250);
  timer.unref();
  wake();
  return {
    dispatcher,
    async stop() {
      stopped = true;
      unlisten();
      clearInterval(timer);
      await dispatcher.settle();
    },
  };
}

/**
 * The dispatcher as a supervised component (`webhook-dispatcher`): a failed claim or
 * record stops it (what it held is sent, recorded if it can be, and otherwise released
 * when its lease runs out), and the supervisor starts another.
 */
export function dispatcherComponent(deps: Omit<DispatcherDeps, 'onError'>, listener: Listener): Component {
  return {
    name: 'webhook-dispatcher',
    start: (fail) => startDispatching({ ...deps, onError: fail }, listener),
  };
}
