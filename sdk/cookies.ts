// An in-memory cookie jar for the dashboard client: it keeps the session cookies from
// `Set-Cookie` and sends them back, like a browser would for a single site (RFC 6265, reduced
// to what one API origin needs): `Path` scoping, `Max-Age`/`Expires` expiry and deletion, and
// `Secure` cookies sent only over https or to a loopback host. Values are never printed.
import { inspectCustom } from './inspect.ts';

type StoredCookie = { name: string; value: string; path: string; expiresAt: number | undefined; secure: boolean };

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Whether `Secure` cookies may be sent to this URL: https, or a loopback host (as browsers allow). */
function secureContext(url: URL): boolean {
  return url.protocol === 'https:' || LOOPBACK.test(url.hostname);
}

export class CookieJar {
  #cookies = new Map<string, StoredCookie>();

  /** Stores the cookies of one response's `Set-Cookie` fields. */
  store(url: URL, setCookies: readonly string[], now = Date.now()): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path: string | undefined;
      let expiresAt: number | undefined;
      let maxAgeSeen = false;
      let secure = false;
      for (const attribute of attributes) {
        const i = attribute.indexOf('=');
        const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
        const val = i < 0 ? '' : attribute.slice(i + 1).trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        else if (key === 'secure') secure = true;
        else if (key === 'max-age' && /^-?\d+$/.test(val)) {
          maxAgeSeen = true;
          expiresAt = Number(val) <= 0 ? -Infinity : now + Number(val) * 1000;
        } else if (key === 'expires' && !maxAgeSeen) {
          const at = Date.parse(val);
          if (!Number.isNaN(at)) expiresAt = at;
        }
      }
      const cookie: StoredCookie = { name, value, path: path ?? defaultPath(url), expiresAt, secure };
      const id = `${cookie.name}\u0000${cookie.path}`;
      if (expiresAt !== undefined && expiresAt <= now) this.#cookies.delete(id);
      else this.#cookies.set(id, cookie);
    }
  }

  /** The `Cookie` header for a request to this URL, or `undefined` when no cookie applies. */
  header(url: URL, now = Date.now()): string | undefined {
    const matching: StoredCookie[] = [];
    for (const [id, cookie] of this.#cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) {
        this.#cookies.delete(id);
        continue;
      }
      if (cookie.secure && !secureContext(url)) continue;
      if (pathMatches(url.pathname, cookie.path)) matching.push(cookie);
    }
    if (matching.length === 0) return undefined;
    // Longer paths first, as RFC 6265 §5.4 asks.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** Whether a (non-expired) cookie with this name is held. */
  has(name: string, now = Date.now()): boolean {
    for (const cookie of this.#cookies.values()) {
      if (cookie.name === name && (cookie.expiresAt === undefined || cookie.expiresAt > now)) return true;
    }
    return false;
  }

  clear(): void {
    this.#cookies.clear();
  }

  /** The cookie names held (never their values). */
  names(): string[] {
    return [...new Set([...this.#cookies.values()].map((c) => c.name))];
  }

  toJSON() {
    return { cookies: this.names() };
  }

  [inspectCustom]() {
    return `CookieJar { ${this.names().join(', ') || 'empty'} }`;
  }
}
