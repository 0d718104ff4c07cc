import type { OutboundHttp } from '../platform/outbound.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import { fillUrl } from '../platform/url-template.ts';
import { judgeProbe, PROBE_BODY_CAP, type ProbeVerdict } from './health.rules.ts';
import type { ClaimedProbe } from './probes.repo.ts';

/** Where one tenant's probe goes. */
export interface ProbeTarget {
  url: string;
  /** The tenant's own URL: private and loopback addresses are refused unless allowed. */
  untrusted: boolean;
  /** The backend host, for the per-host bound. */
  host: string;
}

/** The URL a tenant is probed at (its own, else its product's), or undefined when there is none. */
export function targetOf(probe: Pick<ClaimedProbe, 'urlOverride' | 'settings' | 'name' | 'tenantId'>): ProbeTarget | undefined {
  const template = probe.urlOverride ?? probe.settings.url;
  if (!template) return undefined;
  const url = fillUrl(template, { name: probe.name, tenantId: probe.tenantId });
  let host = 'invalid';
  try {
    host = new URL(url).host;
  } catch {
    // A malformed URL fails the probe with its reason; it still needs a key for the bound.
  }
  return { url, untrusted: probe.urlOverride !== null, host };
}

/** The RoSaaS health check: `GET` with the product's `api-key`, judged by `judgeProbe`. */
export async function sendProbe(http: OutboundHttp, target: ProbeTarget, apiKey: string | null, timeoutMs: number): Promise<ProbeVerdict> {
  const result = await http.send({
    method: 'GET',
    url: target.url,
    headers: { 'user-agent': 'Landlord/0.1', ...(apiKey ? { 'api-key': apiKey } : {}) },
    timeoutMs,
    maxResponseBytes: PROBE_BODY_CAP,
    untrusted: target.untrusted,
  });
  return judgeProbe(result);
}

/**
 * Opens each product's api key once and keeps it while the stored ciphertext is the
 * same, so a hundred thousand probes do not decrypt a hundred thousand times.
 */
export function createApiKeyCache(box: SecretBox): (probe: Pick<ClaimedProbe, 'productId' | 'apiKeyEncrypted'>) => string | null {
  const cache = new Map<string, { sealed: Buffer; key: string }>();
  return (probe) => {
    if (!probe.apiKeyEncrypted) return null;
    const hit = cache.get(probe.productId);
    if (hit?.sealed.equals(probe.apiKeyEncrypted)) return hit.key;
    const key = box.open(probe.apiKeyEncrypted);
    cache.set(probe.productId, { sealed: probe.apiKeyEncrypted, key });
    return key;
  };
}

/** Counting semaphores by key with FIFO waiters: the per-node, per-product and per-host bounds. */
export function createLimits() {
  // Waiters are read from `head` on: shifting a queue hundreds long on every release would be O(n).
  const slots = new Map<string, { active: number; waiters: Array<(() => void) | undefined>; head: number }>();
  return {
    /** Resolves once `key` has fewer than `limit` holders, and takes a place. */
    acquire(key: string, limit: number): Promise<void> {
      let slot = slots.get(key);
      if (!slot) {
        slot = { active: 0, waiters: [], head: 0 };
        slots.set(key, slot);
      }
      if (slot.active < limit) {
        slot.active += 1;
        return Promise.resolve();
      }
      const queue = slot.waiters;
      return new Promise((resolve) => void queue.push(resolve));
    },
    /** Gives a place back; the longest waiter takes it over. */
    release(key: string): void {
      const slot = slots.get(key);
      if (!slot) return;
      if (slot.head < slot.waiters.length) {
        const next = slot.waiters[slot.head];
        slot.waiters[slot.head] = undefined;
        slot.head += 1;
        if (slot.head === slot.waiters.length || (slot.head > 1024 && slot.head * 2 > slot.waiters.length)) {
          slot.waiters = slot.waiters.slice(slot.head);
          slot.head = 0;
        }
        next?.();
        return;
      }
      slot.active -= 1;
      if (slot.active === 0) slots.delete(key);
    },
  };
}
