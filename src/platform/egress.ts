import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';

/** Address ranges a customer-supplied URL may not reach: loopback, private, link-local, CGNAT, multicast. */
const PRIVATE_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** Decides whether an address supplied by a customer may be called. */
export interface EgressPolicy {
  /** Why `address` (an IP) may not be reached from `host`, or undefined when it may. */
  refusal(host: string, address: string): string | undefined;
}

/**
 * The egress policy: private addresses are refused unless the host name or a range
 * containing the address is in the operator's allow list (`LANDLORD_EGRESS_ALLOW`:
 * host names and CIDR ranges, e.g. `127.0.0.1,hooks.internal,10.1.0.0/16`).
 */
export function createEgressPolicy(allow: readonly string[]): EgressPolicy {
  const blocked = new BlockList();
  for (const [network, prefix, family] of PRIVATE_RANGES) blocked.addSubnet(network, prefix, family);
  const allowedHosts = new Set<string>();
  const allowed = new BlockList();
  for (const entry of allow) {
    const [network, prefix] = entry.split('/');
    const family = isIP(network ?? '');
    if (family === 0) allowedHosts.add(entry.toLowerCase());
    else if (prefix === undefined) allowed.addAddress(network as string, family === 4 ? 'ipv4' : 'ipv6');
    else allowed.addSubnet(network as string, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    refusal(host, address) {
      const normalised = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      const family = isIP(normalised) === 6 ? 'ipv6' : 'ipv4';
      if (!blocked.check(normalised, family)) return undefined;
      if (allowedHosts.has(host.toLowerCase()) || allowed.check(normalised, family)) return undefined;
      return `${host} resolves to ${normalised}, a private or loopback address (allow it with LANDLORD_EGRESS_ALLOW)`;
    },
  };
}

/** Thrown when a call is refused by the egress policy; its `code` is `EGRESS_REFUSED`. */
export class EgressRefused extends Error {
  readonly code = 'EGRESS_REFUSED';
}

/**
 * An undici Agent for customer-supplied URLs: the host is resolved, every address is
 * checked against the policy, and the connection goes to the checked address (no
 * second lookup an attacker could race). IP-literal hosts are checked the same way.
 * Redirects are never followed (undici does not, unless asked).
 */
export function createGuardedAgent(policy: EgressPolicy, options: { connections?: number } = {}): Dispatcher {
  return new Agent({
    connections: options.connections ?? 32,
    keepAliveTimeout: 10_000,
    connect: {
      lookup(hostname, lookupOptions, callback) {
        const literal = isIP(hostname);
        if (literal) {
          const why = policy.refusal(hostname, hostname);
          if (why) return callback(new EgressRefused(why), '', 4);
          return callback(null, hostname, literal);
        }
        dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
          if (error) return callback(error, '', 4);
          for (const entry of addresses) {
            const why = policy.refusal(hostname, entry.address);
            if (why) return callback(new EgressRefused(why), '', 4);
          }
          const first = addresses[0];
          if (!first) return callback(new Error(`${hostname} has no address`), '', 4);
          if ((lookupOptions as { all?: boolean }).all)
            return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
          return callback(null, first.address, first.family);
        });
      },
    },
  });
}
