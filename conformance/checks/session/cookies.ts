// The session's cookie family as the contract spells it (components/headers/Set-Cookie-Session
// and Set-Cookie-Clear), and one judge for every response that sets or clears it: login,
// refresh and logout. Attribute names are case-insensitive and their order is free (RFC 6265
// §5.2); values (the Path, the SameSite keyword aside) are compared as written.
import type { CheckContext } from '../../context.ts';
import type { Exchange } from '../../lib/http.ts';
import { ensure } from '../../lib/assert.ts';

export type CookieSpec = { name: string; path: string; maxAge: number };

export const ACCESS: CookieSpec = { name: 'pacspace_access', path: '/dashboard', maxAge: 900 };
export const REFRESH: CookieSpec = { name: 'pacspace_refresh', path: '/dashboard/auth', maxAge: 1_209_600 };
/** Every cookie a session has: the contract names no other (no CSRF cookie: the header is a constant). */
export const SESSION_COOKIES = [ACCESS, REFRESH];

export type ParsedCookie = { name: string; value: string; attributes: Map<string, string> };

/** One Set-Cookie line; for a repeated attribute the last one counts (RFC 6265 §5.3). */
export function parseSetCookie(line: string): ParsedCookie {
  const [pair, ...rest] = line.split(';');
  const i = pair!.indexOf('=');
  const attributes = new Map<string, string>();
  for (const a of rest) {
    const j = a.indexOf('=');
    const name = (j < 0 ? a : a.slice(0, j)).trim().toLowerCase();
    if (name) attributes.set(name, j < 0 ? '' : a.slice(j + 1).trim());
  }
  return { name: (i < 0 ? '' : pair!.slice(0, i)).trim(), value: (i < 0 ? pair! : pair!.slice(i + 1)).trim(), attributes };
}

/** The value of a cookie a response set, or undefined. */
export const cookieValue = (ex: Exchange, name: string) => ex.setCookies.map(parseSetCookie).find((c) => c.name === name)?.value;

/** When the server answered, by its Date header (falls back to this machine's clock). */
export function serverNow(ex: Exchange): number {
  const date = Date.parse(ex.headers.date ?? '');
  return Number.isNaN(date) ? Date.now() : date;
}

const neutral = new WeakMap<CheckContext, Promise<Set<string>>>();

/**
 * Cookies that are not the application's: those the deployment sets even on an answer that by
 * the contract sets none (a load balancer's affinity cookie, a CDN's bot cookie). Learned once
 * per run from one request without cookies (`GET /dashboard/auth/me` → 401); never a
 * `pacspace_` cookie.
 */
export function infrastructureCookies(ctx: CheckContext): Promise<Set<string>> {
  let known = neutral.get(ctx);
  if (!known) {
    known = ctx.dashboard().then(async (dash) => {
      const res = await dash.get('/dashboard/auth/me', { noCookies: true });
      return new Set(res.setCookies.map((c) => parseSetCookie(c).name).filter((n) => !/^pacspace/i.test(n)));
    });
    neutral.set(ctx, known);
  }
  return known;
}

/**
 * The response sets (`set`: login, refresh) or clears (`clear`: logout) exactly the session's
 * two cookies, each once, with HttpOnly, Secure, SameSite=Strict, its own Path, its lifetime
 * (Max-Age; an Expires beside it must agree) and no Domain (host-only).
 */
export function judgeSessionCookies(ex: Exchange, mode: 'set' | 'clear', what: string, infrastructure: Set<string>) {
  const cookies = ex.setCookies.map(parseSetCookie).filter((c) => !infrastructure.has(c.name));
  const names = cookies.map((c) => c.name);
  const expected = SESSION_COOKIES.map((s) => s.name);
  const others = names.filter((n) => !expected.includes(n));
  ensure(others.length === 0, `${what} sets cookies the session does not have: ${others.join(', ')} (only ${expected.join(' and ')})`);
  const now = serverNow(ex);
  for (const spec of SESSION_COOKIES) {
    const mine = cookies.filter((c) => c.name === spec.name);
    ensure(mine.length === 1, `${what} must ${mode} ${spec.name} with one Set-Cookie, found ${mine.length}`);
    const c = mine[0]!;
    const a = c.attributes;
    const label = `${what}: ${spec.name}`;
    if (mode === 'set') ensure(c.value !== '', `${label} has an empty value`);
    ensure(a.has('httponly'), `${label} lacks HttpOnly`);
    ensure(a.has('secure'), `${label} lacks Secure`);
    ensure(a.get('samesite')?.toLowerCase() === 'strict', `${label} must be SameSite=Strict, is ${a.has('samesite') ? `SameSite=${a.get('samesite')}` : 'without SameSite'}`);
    ensure(a.get('path') === spec.path, `${label} must have Path=${spec.path}, has ${a.has('path') ? `Path=${a.get('path')}` : 'no Path'}`);
    ensure(!a.has('domain'), `${label} must be host-only, has Domain=${a.get('domain')}`);
    const maxAge = mode === 'set' ? spec.maxAge : 0;
    const given = a.get('max-age');
    const seconds = given !== undefined && /^-?\d+$/.test(given) ? Number(given) : undefined;
    // Clearing: any Max-Age of 0 or less expires the cookie at once (RFC 6265 §5.2.2).
    const lifetimeOk = seconds !== undefined && (mode === 'set' ? seconds === maxAge : seconds <= 0);
    ensure(lifetimeOk, `${label} must have Max-Age=${maxAge}, has ${given !== undefined ? `Max-Age=${given}` : 'no Max-Age'}`);
    if (a.has('expires')) {
      const expires = Date.parse(a.get('expires')!);
      ensure(!Number.isNaN(expires), `${label} has an unreadable Expires`);
      if (mode === 'set') ensure(Math.abs(expires - (now + maxAge * 1000)) <= 120_000, `${label}: its Expires disagrees with Max-Age=${maxAge}`);
      else ensure(expires <= now + 5_000, `${label}: a cleared cookie's Expires must not be in the future`);
    }
  }
}

/** A failed or refused answer sets no cookie (the deployment's infrastructure cookies aside). */
export function expectNoCookie(ex: Exchange, what: string, infrastructure: Set<string>) {
  const names = ex.setCookies.map((c) => parseSetCookie(c).name).filter((n) => !infrastructure.has(n));
  ensure(names.length === 0, `${what} must set no cookie, set ${names.join(', ')}`);
}

/**
 * A refused answer starts no session: every cookie it sets (infrastructure cookies aside) only
 * clears one — an empty value, a Max-Age of 0 or less, or an Expires in the past. (Clearing
 * dead cookies on a refusal is allowed where the contract does not say "no cookie is set".)
 */
export function expectNoNewSession(ex: Exchange, what: string, infrastructure: Set<string>) {
  const now = serverNow(ex);
  const issued = ex.setCookies
    .map(parseSetCookie)
    .filter((c) => !infrastructure.has(c.name))
    .filter((c) => {
      const maxAge = c.attributes.get('max-age');
      const expires = Date.parse(c.attributes.get('expires') ?? '');
      const clears = c.value === '' || c.value === '""' || (maxAge !== undefined && /^-?\d+$/.test(maxAge) && Number(maxAge) <= 0) || (maxAge === undefined && expires <= now);
      return !clears;
    });
  ensure(issued.length === 0, `${what} must start no session, but sets ${issued.map((c) => c.name).join(', ')}`);
}

/** A Cookie header with these values. */
export const cookieHeader = (values: Record<string, string | undefined>) =>
  Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
