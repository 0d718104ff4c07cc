import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { createEgressPolicy, createGuardedAgent, type EgressPolicy } from './egress.ts';

/** What came back from one outbound HTTP call. */
export type OutboundResult =
  | {
      ok: true;
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: string;
      truncated: boolean;
      durationMs: number;
    }
  | { ok: false; error: string; code: string; durationMs: number };

/** One outbound request. */
export interface OutboundRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Bytes of the response body kept; the rest is not read. */
  maxResponseBytes: number;
  /**
   * The URL came from a customer (a webhook endpoint, a tenant's health URL): private
   * and loopback addresses are refused unless allowed (see `egress.ts`).
   */
  untrusted?: boolean;
}

/** Makes Landlord's calls to other systems: pooled keep-alive connections, per-call timeouts, capped bodies. */
export interface OutboundHttp {
  send(call: OutboundRequest): Promise<OutboundResult>;
  close(): Promise<void>;
}

/**
 * An undici Agent shared by every outbound call: keep-alive connection pools per
 * origin, at most `connectionsPerOrigin` sockets to one backend host, and no
 * redirects (a redirect is an answer like any other). A response body is read only
 * up to the cap, so an endless body cannot hold a worker.
 */
export function createOutboundHttp(options: { connectionsPerOrigin?: number; egress?: EgressPolicy } = {}): OutboundHttp {
  const connections = options.connectionsPerOrigin ?? 64;
  const agent = new Agent({ connections, keepAliveTimeout: 10_000, pipelining: 1 });
  const egress = options.egress ?? createEgressPolicy([]);
  const guarded = createGuardedAgent(egress, { connections });
  return {
    async send(call) {
      const started = performance.now();
      if (call.untrusted) {
        const refusal = literalRefusal(egress, call.url);
        if (refusal) return { ok: false, code: 'EGRESS_REFUSED', error: refusal, durationMs: 0 };
      }
      // A timer cleared when the call ends: AbortSignal.timeout() would still fire (and
      // build its DOMException) seconds after every call that finished in time.
      const deadline = new AbortController();
      const signal = deadline.signal;
      const timer = setTimeout(() => deadline.abort(), call.timeoutMs);
      try {
        const response = await request(call.url, {
          method: call.method,
          headers: call.headers,
          body: call.body,
          dispatcher: call.untrusted ? guarded : agent,
          signal,
          headersTimeout: call.timeoutMs,
          bodyTimeout: call.timeoutMs,
        });
        const { text, truncated } = await readCapped(response.body, call.maxResponseBytes);
        return {
          ok: true,
          status: response.statusCode,
          headers: response.headers,
          body: text,
          truncated,
          durationMs: Math.round(performance.now() - started),
        };
      } catch (error) {
        const durationMs = Math.round(performance.now() - started);
        if (signal.aborted) return { ok: false, error: `no answer within ${call.timeoutMs} ms`, code: 'TIMEOUT', durationMs };
        return { ok: false, ...describeError(error), durationMs };
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      await Promise.all([agent.close(), guarded.close()]);
    },
  };
}

/** Hosts given as IP literals are never looked up, so they are checked here. */
function literalRefusal(egress: EgressPolicy, url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined; // the request itself reports the malformed URL
  }
  return isIP(host) ? egress.refusal(host, host) : undefined;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > cap) {
      // Stop reading: the connection is dropped rather than drained.
      body.destroy();
      return { text: Buffer.concat(chunks).subarray(0, cap).toString('utf8'), truncated: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function describeError(error: unknown): { error: string; code: string } {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code ?? 'ERROR';
  if (code === 'EGRESS_REFUSED') return { code, error: err.cause?.message ?? err.message ?? 'refused by the egress policy' };
  const messages: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed',
    UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
    UND_ERR_BODY_TIMEOUT: 'response body stalled',
    UND_ERR_SOCKET: 'connection closed by the other side',
    ERR_INVALID_URL: 'not a valid URL',
    UND_ERR_INVALID_ARG: 'not a valid request',
  };
  return { code, error: messages[code] ?? err.cause?.message ?? err.message ?? String(error) };
}
