import type { Db } from '../db/database.ts';
import type { Listener } from '../db/listener.ts';
import { toEventView } from '../events/events.routes.ts';
import type { Clock } from '../platform/clock.ts';
import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { type AttemptResult, claimDeliveries, DELIVERIES_CHANNEL, type DeliveryRow, recordAttempts } from './deliveries.repo.ts';
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
  /** Called when a send finishes and frees a slot of its endpoint. */
  onSlotFreed?: () => void;
  random?: () => number;
}

/** Response bodies are kept up to 16 KiB per attempt. */
export const KEPT_BODY_BYTES = 16 * 1024;
const BATCH = 200;
const FLUSH_MS = 20;

/** A node's webhook dispatcher. */
export interface Dispatcher {
  /** Claims what is due now and starts sending it; resolves with how many were claimed. */
  runRound(): Promise<number>;
  /** Waits until everything in flight is sent and recorded. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Sends webhook deliveries: claims due ones with a lease (see `claimDeliveries`),
 * signs each per Standard Webhooks, posts it through the egress-checked client, and
 * records results in batches. A delivery whose node dies is claimed again once its
 * lease runs out (or at once, when the dead node is noticed).
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const inFlight = new Map<string, number>();
  const sending = new Set<Promise<void>>();
  let results: AttemptResult[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  const leaseMs = deps.timeoutMs + 15_000;

  const flush = async (): Promise<void> => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    await flushing;
    const batch = results;
    results = [];
    if (batch.length === 0) return;
    flushing = deps.db
      .transaction()
      .execute(async (tx) => {
        await recordAttempts(tx, batch);
        await settleEndpoints(tx, batch, deps.clock.now());
      })
      .catch(deps.onError)
      .finally(() => {
        flushing = undefined;
      });
    await flushing;
  };

  const send = async (delivery: DeliveryRow, endpoint: EndpointRow, event: Parameters<typeof toEventView>[0]): Promise<void> => {
    const body = JSON.stringify(toEventView(event));
    // The signed timestamp is wall-clock time: receivers check it against their own clocks.
    const signedAt = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Landlord-Webhooks/0.1',
      ...signDelivery(signingSecrets(endpoint, deps.box, deps.clock.now()), event.id, signedAt, body),
    };
    const response = await deps.http.send({
      method: 'POST',
      url: endpoint.url,
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
      endpointId: endpoint.id,
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
    if (results.length >= BATCH) await flush();
    else flushTimer ??= setTimeout(() => flush().catch(deps.onError), FLUSH_MS);
  };

  return {
    async runRound() {
      const claimed = await claimDeliveries(deps.db, { now: deps.clock.now(), leaseMs, node: deps.nodeId, limit: BATCH, inFlight });
      if (claimed.length === 0) return 0;
      const [endpoints, events] = await Promise.all([
        deps.db
          .selectFrom('webhook_endpoints')
          .selectAll()
          .where('id', 'in', [...new Set(claimed.map((row) => row.endpoint_id))])
          .execute(),
        deps.db
          .selectFrom('events')
          .selectAll()
          .where(
            'id',
            'in',
            claimed.map((row) => row.event_id),
          )
          .execute(),
      ]);
      const endpointById = new Map(endpoints.map((row) => [row.id, row]));
      const eventById = new Map(events.map((row) => [row.id, row]));
      for (const delivery of claimed) {
        const endpoint = endpointById.get(delivery.endpoint_id);
        const event = eventById.get(delivery.event_id);
        if (!endpoint || !event) continue;
        inFlight.set(endpoint.id, (inFlight.get(endpoint.id) ?? 0) + 1);
        const task = send(delivery, endpoint, event)
          .catch(deps.onError)
          .finally(() => {
            inFlight.set(endpoint.id, (inFlight.get(endpoint.id) ?? 1) - 1);
            sending.delete(task);
            deps.onSlotFreed?.();
          });
        sending.add(task);
      }
      return claimed.length;
    },
    async settle() {
      while (sending.size) await Promise.all([...sending]);
      await flush();
    },
    async stop() {
      while (sending.size) await Promise.all([...sending]);
      await flush();
    },
  };
}

/**
 * Runs a dispatcher on this node: a round whenever new deliveries are announced
 * (NOTIFY), whenever a send finishes and frees a slot, and every `idleMs` for
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
        while (!stopped && (await dispatcher.runRound()) > 0) {}
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  const wake = () => {
    if (!stopped) loop().catch(deps.onError);
  };
  const dispatcher = createDispatcher({ ...deps, onSlotFreed: wake });
  await listener.on(DELIVERIES_CHANNEL, wake);
  const timer = setInterval(wake, options.idleMs ?? 250);
  timer.unref();
  wake();
  return {
    dispatcher,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await dispatcher.stop();
    },
  };
}
