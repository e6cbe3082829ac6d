// Webhook URLs must name public addresses (the contract's `WebhookUrl`): a host that is a
// private, link-local, shared (CGNAT), documentation, multicast or otherwise non-public IP
// address, in any spelling the WHATWG URL parser reads as one (`https://167772161/`,
// `https://0xa9fea9fe/`, `https://[::ffff:a9fe:a9fe]/`), is refused with 422 on `url`. The local
// sandbox also accepts this machine (loopback, unspecified, its own interface addresses; see
// self-target.ts, which keeps its own listeners out). Host names are judged by spelling only
// here: the sandbox does not resolve them.
import { BlockList, isIP } from 'node:net';
import { isThisMachine } from './self-target.ts';

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b:1::', 48],
] as const) NON_PUBLIC.addSubnet(net, bits, 'ipv6');

/** Why `url` names a non-public address other than this machine, or undefined. */
export function nonPublicReason(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined; // the contract's `format: uri` and pattern judge it
  }
  const family = isIP(host);
  if (family === 0 || isThisMachine(host)) return undefined;
  // (BlockList matches an IPv4-mapped IPv6 address against the IPv4 rules.)
  if (!NON_PUBLIC.check(host, family === 6 ? 'ipv6' : 'ipv4')) return undefined;
  return `must be a public address: ${host} is private, link-local or otherwise not public`;
}
