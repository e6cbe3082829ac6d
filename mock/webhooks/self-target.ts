// Webhook deliveries never reach the sandbox's own listeners. Otherwise any tenant could point
// an endpoint at `http://127.0.0.1:4010/__sandbox/reset`, send a test event, and wipe every
// tenant's data (the sandbox would be calling its own control surface). Loopback receivers on
// other ports stay allowed: integrators test with a receiver on their own machine.
//
// A target is the sandbox itself when its port is one of the sandbox's listener ports and its
// address is this machine's: loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::, which
// connect to this machine), one of this machine's interface addresses, or any of those as an
// IPv4-mapped IPv6 address (::ffff:127.0.0.1). IPv4 written in decimal, hex or octal
// (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) is read as the WHATWG URL parser reads
// it, which is how it would be connected to.
//
// Checked twice: when an endpoint is created or its URL changed (`checkEndpointUrl`, 422 on
// `url`; names are judged by spelling only: `localhost` and `*.localhost`), and on every
// delivery attempt after DNS resolution (`ownTargetLookup`, the lookup the connection itself
// uses, so a name cannot resolve one way for the check and another for the connection).
// Redirects are never followed (mock/webhooks/dispatcher.ts), so no hop needs checking.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { SandboxConfig } from '../services.ts';

/** The sandbox's listener ports, from the URLs it announces (none before it listens). */
export function ownPorts(config: Pick<SandboxConfig, 'productionUrl' | 'sandboxUrl'>): number[] {
  return [config.productionUrl, config.sandboxUrl].flatMap((url) => {
    const port = /:(\d+)$/.exec(url)?.[1];
    return port === undefined ? [] : [Number(port)];
  });
}

const THIS_MACHINE = new BlockList();
THIS_MACHINE.addSubnet('127.0.0.0', 8, 'ipv4');
THIS_MACHINE.addSubnet('0.0.0.0', 8, 'ipv4');
THIS_MACHINE.addAddress('::1', 'ipv6');
THIS_MACHINE.addAddress('::', 'ipv6');

/** Whether connecting to `address` (an IP literal, without brackets) reaches this machine. */
export function isThisMachine(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // (BlockList matches an IPv4-mapped IPv6 address against the IPv4 rules.)
  if (THIS_MACHINE.check(address, family === 6 ? 'ipv6' : 'ipv4')) return true;
  const local = new BlockList();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) local.addAddress(entry.address.replace(/%.*$/, ''), entry.family === 'IPv6' ? 'ipv6' : 'ipv4');
  }
  return local.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** `localhost` and its subdomains (RFC 6761), with or without the final dot. */
const isLocalhostName = (name: string) => /(^|\.)localhost\.?$/i.test(name);

/** The port a URL connects to. */
const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** A URL's host without IPv6 brackets. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Why `url` is the sandbox itself (for the create/update check), or undefined when it is not (as far as its spelling tells). */
export function selfTargetReason(url: string, ports: readonly number[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the contract's `format: uri` and pattern judge it
  }
  const port = portOf(parsed);
  if (!ports.includes(port)) return undefined;
  const host = bareHost(parsed);
  if (isThisMachine(host) || isLocalhostName(host)) {
    return `must not be this sandbox's own listener (port ${port} of this machine): webhook deliveries never go to the sandbox itself; run the receiver on another port`;
  }
  return undefined;
}

/** A delivery refused before anything was sent: its target is the sandbox itself. */
export class SelfTargetError extends Error {
  override readonly name = 'SelfTargetError';
  constructor(readonly target: string) {
    super(`refused: ${target} is this sandbox's own listener (deliveries never go to the sandbox itself); nothing was sent`);
  }
}

/** The check for an IP literal host, before connecting (a lookup is not made for those). */
export function checkAddress(host: string, port: number, ports: readonly number[]): void {
  if (ports.includes(port) && isThisMachine(host)) throw new SelfTargetError(`${isIP(host) === 6 ? `[${host}]` : host}:${port}`);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for node:http(s) connecting to `port`: resolves as `dns.lookup` does and fails with
 * a SelfTargetError when any address it found is this machine and the port one of the
 * sandbox's (`resolve` replaces dns.lookup in tests).
 */
export function ownTargetLookup(port: number, ports: () => readonly number[], resolve: Lookup = dnsLookup as unknown as Lookup): Lookup {
  return (hostname, options, callback) => {
    resolve(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const found = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const own = ports().includes(port) ? found.find(isThisMachine) : undefined;
      if (own !== undefined) return callback(new SelfTargetError(`${hostname} (${own}):${port}`) as NodeJS.ErrnoException, address, family);
      callback(null, address, family);
    });
  };
}

export { bareHost, portOf };
