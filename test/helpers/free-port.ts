import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on now, chosen by the kernel.
 *
 * For a server that must be named (in a product's URLs) before it can start; a random number in a range can
 * be one another process holds, and the server then fails to start one run in many.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
