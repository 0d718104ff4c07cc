import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from './landlord.ts';
import { freePort, ROOT, type Started, startNode, waitForOutput } from './processes.ts';

const STALL_MS = 60_000;

/** The simulated backend (`bench/simulator.ts`), running as its own process. */
export interface Simulator {
  process: Started;
  url: string;
  /** Creation calls received so far (one per tenant), and the reports made after them. */
  count(): Promise<{ arrivals: number; calls: number; reportsOk: number; reportsFailed: number }>;
  /** Arrival time (ms since the epoch) of the first creation call, by tenant name. */
  arrivals(): Promise<{ arrivals: Map<string, number>; reportsFailed: number; lastReportError: string }>;
  /** From now on, report each creation done to this Landlord with this client token. */
  reportTo(landlordUrl: string | null, token: string | null): Promise<void>;
  reset(): Promise<void>;
  /**
   * Resolves once `expected` creation calls have arrived; fails after `timeoutMs`, after a
   * minute without a new one, or when `sender` (the process making the calls) exits.
   */
  waitForArrivals(expected: number, timeoutMs: number, sender?: Started): Promise<void>;
}

/** Starts the simulated backend on a free loopback port. */
export async function startSimulator(): Promise<Simulator> {
  const port = await freePort();
  const process = startNode('simulator', join(ROOT, 'bench', 'simulator.ts'), { env: { PORT: String(port) } });
  await waitForOutput(process, /simulator ready/);
  const url = `http://127.0.0.1:${port}`;
  const count = async () => (await call(url, 'GET', '/_bench/count')).body;
  return {
    process,
    url,
    count,
    arrivals: async () => {
      const { body } = await call(url, 'GET', '/_bench/stats');
      return {
        arrivals: new Map(body.arrivals as [string, number][]),
        reportsFailed: body.reportsFailed,
        lastReportError: body.lastReportError,
      };
    },
    reportTo: async (landlordUrl, token) => void (await call(url, 'POST', '/_bench/config', { body: { landlordUrl, token } })),
    reset: async () => void (await call(url, 'POST', '/_bench/reset', { body: {} })),
    waitForArrivals: async (expected, timeoutMs, sender) => {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      let progressAt = Date.now();
      for (;;) {
        const now = await count();
        if (now.arrivals >= expected) return;
        if (now.arrivals !== last) [last, progressAt] = [now.arrivals, Date.now()];
        const why =
          sender && sender.child.exitCode !== null
            ? `${sender.name} exited with ${sender.child.exitCode}`
            : Date.now() > deadline
              ? `${timeoutMs} ms passed`
              : Date.now() - progressAt > STALL_MS
                ? `none arrived for ${STALL_MS / 1000} s`
                : undefined;
        if (why)
          throw new Error(
            `only ${now.arrivals} of ${expected} creation calls arrived: ${why}${sender ? `\n${sender.output().slice(-3000)}` : ''}`,
          );
        await sleep(50);
      }
    },
  };
}
