/**
 * Where a callback may go (server-side request forgery). A callback URL comes from a caller, and
 * the server POSTs to it from inside the network: left unchecked, it reaches the cloud metadata
 * service (169.254.169.254), the loopback interface or private services. Loopback, private,
 * link-local and other special-purpose addresses are therefore refused unless
 * `callbacks.allowedHosts` lists the host (by name, wildcard suffix, address or CIDR range);
 * public hosts are allowed. The URL is checked when the job is submitted (its literal host) and
 * again when each delivery connects, on the addresses DNS gave for that very connection (the
 * policy's `lookup` is the one the socket uses), so a name resolving — or re-resolving — to an
 * internal address is refused too.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { CallbacksConfig } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';

/** Special-purpose ranges (IANA registries) that a callback may not reach unless allowed. */
const INTERNAL_RANGES: readonly (readonly [string, number, 'ipv4' | 'ipv6', string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'a private'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local'],
  ['172.16.0.0', 12, 'ipv4', 'a private'],
  ['192.0.0.0', 24, 'ipv4', 'a protocol-assignment'],
  ['192.168.0.0', 16, 'ipv4', 'a private'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved'],
  ['::', 128, 'ipv6', 'an unspecified'],
  ['::1', 128, 'ipv6', 'a loopback'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private)'],
  ['fe80::', 10, 'ipv6', 'a link-local'],
  ['ff00::', 8, 'ipv6', 'a multicast'],
];

/** The kind of address `address` is, when it is one a callback may not reach ('a loopback'). */
export function internalAddressKind(address: string): string | undefined {
  const { ip, family } = unmapped(address);
  for (const [network, prefix, rangeFamily, kind] of INTERNAL_RANGES) {
    if (rangeFamily !== family) continue;
    const list = new BlockList();
    list.addSubnet(network, prefix, rangeFamily);
    if (list.check(ip, family)) return kind;
  }
  return undefined;
}

/** A DNS lookup with the signature `net.connect` and `http.request` take. */
export type CallbackLookup = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** The checks of the `callbacks` settings. */
export interface CallbackHostPolicy {
  /**
   * Why a callback to `url` is refused by its literal host (an internal address or `localhost`
   * not listed in `allowedHosts`); undefined when it may be queued (a name is checked on delivery).
   */
  refusalOf(url: string): string | undefined;
  /** Resolves a host for a delivery's connection and fails when an address it gives is refused. */
  readonly lookup: CallbackLookup;
}

/** Error code of a refused lookup (a delivery refused by the policy is not retried). */
export const CALLBACK_HOST_REFUSED = 'ECALLBACKHOSTREFUSED';

const ALLOW_HINT = 'add the host to callbacks.allowedHosts (STRATUM_CALLBACK_ALLOWED_HOSTS) to allow it';

/** Builds the policy of the `callbacks` settings. */
export function createCallbackHostPolicy(settings: Pick<CallbacksConfig, 'allowedHosts'>): CallbackHostPolicy {
  const allowedAddresses = new BlockList();
  const allowedNames = new Set<string>();
  const allowedSuffixes: string[] = [];
  for (const [i, pattern] of settings.allowedHosts.entries()) {
    const entry = pattern
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    const [network, prefix] = entry.split('/');
    const family = isIP(network ?? '');
    if (family !== 0 && network !== undefined) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
        throw new StratumError('CONFIG_INVALID', `callbacks.allowedHosts[${i}]: "${pattern}" has a bad prefix length`);
      }
      allowedAddresses.addSubnet(network, bits, type);
    } else if (entry.startsWith('*.') && entry.length > 2) allowedSuffixes.push(entry.slice(1));
    else if (/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(entry)) allowedNames.add(entry.replace(/\.$/, ''));
    else {
      throw new StratumError(
        'CONFIG_INVALID',
        `callbacks.allowedHosts[${i}]: "${pattern}" is not a host name, *.suffix, IP address or CIDR range`,
      );
    }
  }
  const nameAllowed = (host: string): boolean => {
    const name = host.toLowerCase().replace(/\.$/, '');
    return allowedNames.has(name) || allowedSuffixes.some((suffix) => name.endsWith(suffix));
  };
  const addressRefusal = (host: string, address: string): string | undefined => {
    const kind = internalAddressKind(address);
    if (kind === undefined) return undefined;
    const { ip, family } = unmapped(address);
    if (allowedAddresses.check(ip, family)) return undefined;
    const what = host === address ? `${address} is` : `${host} resolves to ${address},`;
    return `${what} ${kind} address; callbacks to loopback, private and link-local addresses are refused: ${ALLOW_HINT}`;
  };

  return {
    refusalOf(url) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (nameAllowed(host)) return undefined;
      if (isIP(host) !== 0) return addressRefusal(host, host);
      const name = host.toLowerCase().replace(/\.$/, '');
      // Resolved by the system resolver to loopback whatever DNS says (RFC 6761 section 6.3).
      if (name === 'localhost' || name.endsWith('.localhost')) {
        return `${host} is a loopback name; callbacks to loopback, private and link-local addresses are refused: ${ALLOW_HINT}`;
      }
      return undefined;
    },
    lookup(hostname, options, callback) {
      const all: LookupAllOptions = { ...options, all: true };
      dnsLookup(hostname, all, (error, addresses) => {
        if (error !== null) return callback(error, []);
        if (!nameAllowed(hostname)) {
          for (const { address } of addresses) {
            const refusal = addressRefusal(hostname, address);
            if (refusal !== undefined) return callback(refusedError(refusal), []);
          }
        }
        if (options.all === true) return callback(null, addresses);
        const first = addresses[0];
        if (first === undefined)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
        return callback(null, first.address, first.family);
      });
    },
  };
}

function refusedError(reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(reason), { code: CALLBACK_HOST_REFUSED });
}

/** An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4 address it maps. */
function unmapped(address: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return { ip: mapped[1], family: 'ipv4' };
  // The URL parser writes a mapped address in hex: [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return { ip: [high >> 8, high & 255, low >> 8, low & 255].join('.'), family: 'ipv4' };
  }
  return { ip: address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}
