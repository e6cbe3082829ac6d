// Which `Host` values the sandbox answers (RFC 9110 §7.2, §15.5.20). A web page can make a
// browser send requests to the sandbox under a name its attacker controls (DNS rebinding: the
// name first resolves to the attacker's server, then to 127.0.0.1), and then read the answers
// as same-origin. Such a request still names the attacker's host in `Host`, so every request
// whose `Host` is not one the sandbox serves is refused with `421 Misdirected Request` before
// it is routed, on both listeners and for every path (mock/app.ts).
//
// Served: `localhost`, `127.0.0.1` and `[::1]` with the port of the listener the request came
// in on; the `--host` both listeners bind to, with that port too; and every `--allowed-host`
// value: `HOST` with the listener's port, `HOST:PORT` exactly as written (a port mapping:
// Docker's `-p 8080:4010` makes clients send `localhost:8080`). Names are compared without
// regard to case. A request without `Host` (HTTP/1.0; Node refuses HTTP/1.1 without one) is
// not a browser's and is served.

/** `[v6]`, a name or an IPv4 address, optionally with `:port`; no user info, path or spaces. */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** A host as `Host` carries it: lower case, an IPv6 literal in brackets (`::1` → `[::1]`). */
function hostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * An `--allowed-host` / `allowedHosts` value as it will be compared, or undefined when it is
 * not a host (with an optional port): `Sandbox.Example`, `sandbox.example:8080`, `::1`,
 * `[fd00::1]:4010`.
 */
export function normalizeAllowedHost(value: string): string | undefined {
  const trimmed = value.trim();
  // A bare IPv6 address (more than one colon, no brackets) takes no port.
  const candidate = !trimmed.startsWith('[') && (trimmed.match(/:/g)?.length ?? 0) > 1 ? `[${trimmed}]` : trimmed;
  const match = HOST_VALUE.exec(candidate);
  if (!match) return undefined;
  const port = match[1];
  if (port === undefined) return hostName(candidate);
  if (Number(port) > 65_535) return undefined;
  return `${hostName(candidate.slice(0, -(port.length + 1)))}:${Number(port)}`;
}

export type HostCheck = (host: string | undefined, listenerPort: number) => boolean;

/** The `Host` check for a sandbox bound to `bindHost` that also serves `allowedHosts` (normalized or not). */
export function createHostCheck(bindHost: string, allowedHosts: readonly string[] = []): HostCheck {
  const names = new Set([...LOOPBACK_NAMES, hostName(bindHost)]);
  const exact = new Set<string>();
  for (const value of allowedHosts) {
    const host = normalizeAllowedHost(value);
    if (host === undefined) continue;
    if (/:\d+$/.test(host)) exact.add(host);
    else names.add(host);
  }
  return (host, listenerPort) => {
    if (host === undefined) return true;
    const value = host.toLowerCase();
    if (exact.has(value)) return true;
    const match = HOST_VALUE.exec(value);
    if (!match) return false;
    const port = match[1] === undefined ? 80 : Number(match[1]);
    const name = match[1] === undefined ? value : value.slice(0, -(match[1].length + 1));
    return port === listenerPort && names.has(name);
  };
}
