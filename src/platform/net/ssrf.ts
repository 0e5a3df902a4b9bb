import dns, { type LookupAddress } from 'node:dns';
import net from 'node:net';
import { buildConnector } from 'undici';

export interface TargetPolicy {
  /** Loopback, private and link-local targets are allowed (tests, private CDNs). */
  allowPrivateHosts: boolean;
  /** Exact hosts or `*.suffix`; empty allows any host. */
  allowedHosts: readonly string[];
}

/** A URL or address the guard refuses: no retry can make it acceptable. */
export class BlockedTargetError extends Error {
  readonly code = 'ERR_TARGET_BLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedTargetError';
  }
}

const blocked = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", incl. the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible range
  ['64:ff9b::', 96], // NAT64 can reach any IPv4 address, private ones included
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** True when `address` (an IP literal) is loopback, private, link-local or otherwise not public. */
export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = embeddedIpv4(address);
  return mapped ? blocked.check(mapped, 'ipv4') : blocked.check(address, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), however it is written. */
function embeddedIpv4(address: string): string | undefined {
  const canonical = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname;
  const match = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!match) return undefined;
  const high = Number.parseInt(match[1]!, 16);
  const low = Number.parseInt(match[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export function isAllowedHost(host: string, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length === 0) return true;
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowedHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? name.endsWith(p.slice(1)) && name.length > p.length - 1 : name === p;
  });
}

/** Checks what can be checked before connecting: the scheme, the allowlist and an IP-literal host. */
export function assertFetchableUrl(url: string, policy: TargetPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BlockedTargetError(`not a valid URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BlockedTargetError(`scheme ${parsed.protocol} is not allowed`);
  if (parsed.username || parsed.password) throw new BlockedTargetError('URLs with credentials are not allowed');
  assertHost(parsed.hostname.replace(/^\[|\]$/g, ''), policy);
  return parsed;
}

function assertHost(hostname: string, policy: TargetPolicy): void {
  if (!isAllowedHost(hostname, policy.allowedHosts)) throw new BlockedTargetError(`host ${hostname} is not among the allowed hosts`);
  if (!policy.allowPrivateHosts && net.isIP(hostname) !== 0 && isBlockedAddress(hostname)) {
    throw new BlockedTargetError(`address ${hostname} is not public`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net/tls.connect that refuses a name if any of its addresses is not public. It
 * runs at connect time on the addresses actually dialled, so a DNS answer that changes between
 * a check and the connection (rebinding) cannot slip through.
 */
export function guardedLookup(refusePrivate: boolean, resolve: LookupFunction = dns.lookup) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = refusePrivate ? addresses.find((a) => isBlockedAddress(a.address)) : undefined;
      if (refused) return callback(new BlockedTargetError(`host ${hostname} resolves to ${refused.address}, which is not public`), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

export interface GuardedConnectorOptions extends TargetPolicy {
  connectTimeoutMs: number;
  /** DNS resolution; replaceable so that tests can answer with any address. */
  resolve?: LookupFunction;
}

/**
 * An undici connector that applies the policy to every connection, redirects included: the
 * allowlist to the host name, and the address check to IP literals (which net.connect never
 * looks up) and to every resolved address.
 */
export function guardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup: guardedLookup(!options.allowPrivateHosts, options.resolve),
  } as buildConnector.BuildOptions);
  return (connectOptions, callback) => {
    try {
      assertHost(connectOptions.hostname, options);
    } catch (error) {
      callback(error as Error, null);
      return;
    }
    connect(connectOptions, callback);
  };
}
