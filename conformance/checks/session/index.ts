// Dashboard sessions (seed 000 "Dashboard API - Browser Session Authentication", PRODUCT.md
// "Surfaces and auth"; OWASP API2:2023 Broken Authentication): the login answer, the cookie
// family on every response that sets or clears it, CSRF on every unsafe cookie route,
// refresh rotation and reuse detection, logout, and login failures.
//
// Logins a run makes here: SESSION-004, -005 and -009 log in once each on purpose (their own
// sessions end); SESSION-006 makes 2 failed logins (one for the --email: the only failures
// that count against the real account) and SESSION-011 5 failed ones and 1 throttled for an
// address no account has.
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import { csrfChecks } from './csrf.ts';
import { ACCESS, REFRESH, cookieHeader, cookieValue, expectNoCookie, expectNoNewSession, infrastructureCookies, judgeSessionCookies, serverNow } from './cookies.ts';

/** Member names that would carry a token, a password or a hash (a `passwordChangedAt` would be neither). */
const TOKEN_MEMBER = /token|jwt|secret/i;
const PASSWORD_MEMBER = /^(password|passwd|pwd)$|hash|salt|digest/i;
/** Values in the formats password hashes are stored in (PHC strings, bcrypt, scrypt, pbkdf2). */
const HASH_VALUE = /^\$(2[abxy]?|argon2(id|i|d)|scrypt|pbkdf2[-\w]*|[1-7])\$|^(scrypt|pbkdf2|bcrypt|argon2)[$:]/i;

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

function membersOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) membersOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      membersOf(v, out);
    }
  }
  return out;
}

/**
 * A body that carries no token-, password- or hash-like member, no value in a password hash
 * format, and none of the given secrets (session cookie values, the password sent).
 */
export function expectNoCredentialsIn(ex: Exchange, what: string, secrets: Array<string | undefined> = []) {
  const members = membersOf(ex.body);
  const tokenLike = members.filter((m) => TOKEN_MEMBER.test(m));
  ensure(!tokenLike.length, `${what} carries token-like members: ${tokenLike.join(', ')}`);
  const passwordLike = members.filter((m) => PASSWORD_MEMBER.test(m));
  ensure(!passwordLike.length, `${what} carries password- or hash-like members: ${passwordLike.join(', ')}`);
  ensure(!stringsOf(ex.body).some((v) => HASH_VALUE.test(v)), `${what} carries a value in a password hash format`);
  for (const value of secrets) ensure(!value || !ex.text.includes(value), `${what} repeats a session cookie value or the password in its body`);
}

/** The cookies a client holds, as a Cookie header (to present them again later). */
const jarHeader = (client: Client) => cookieHeader(Object.fromEntries(client.jar));

const me = (client: Client, cookie?: string) => client.get('/dashboard/auth/me', cookie === undefined ? {} : { headers: { cookie } });
const unknownEmail = (tag: string) => `nobody-${tag}-${Date.now().toString(36)}@conformance.invalid`;

/** The shared session still works (a check's own login, logout or reuse must not end it). */
async function expectSharedSessionAlive(ctx: CheckContext, after: string) {
  const dash = await ctx.dashboard();
  expectStatus(await me(dash), 200, `the run's other session after ${after}`);
}

export const sessionChecks = [
  defineCheck({
    id: 'SESSION-001',
    rule: 'The login answer is { success: true, data: user } with no token, password, hash or cookie value in it.',
    source: 'seed 000 Starting a Session (not bearer tokens); PRODUCT.md; openapi User',
    needs: ['dashboard'],
    async run(ctx) {
      // The run's own login (the preflight's): no second login is needed to read its answer.
      const login = await ctx.dashboardLogin();
      expectStatus(login, 200, 'logging in with --email and --password');
      ensure(login.body?.success === true && login.body?.data?.email, 'login must answer { success: true, data: user }');
      expectNoCredentialsIn(login, 'the login answer', [cookieValue(login, ACCESS.name), cookieValue(login, REFRESH.name), ctx.config.password]);
    },
  }),
  defineCheck({
    id: 'SESSION-002',
    rule: 'Login sets exactly pacspace_access and pacspace_refresh, each HttpOnly, Secure, SameSite=Strict, with its Path and Max-Age, host-only.',
    source: 'openapi #/components/headers/Set-Cookie-Session; PRODUCT.md Surfaces and auth; OWASP API8:2023',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const login = await ctx.dashboardLogin();
      expectStatus(login, 200, 'logging in with --email and --password');
      judgeSessionCookies(login, 'set', 'login', infra);
    },
  }),
  ...csrfChecks,
  defineCheck({
    id: 'SESSION-004',
    rule: 'Logout needs the CSRF header, then revokes the access cookie and the refresh family, clears both cookies with the same attributes, and leaves other sessions valid.',
    source: 'PRODUCT.md Surfaces and auth; openapi op logout; openapi #/components/headers/Set-Cookie-Clear',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      // Its own session, knowingly: logging out must not end the run's shared one.
      const client = await ctx.loginClient();
      const cookies = jarHeader(client);
      const refreshCookie = cookieHeader({ [REFRESH.name]: client.jar.get(REFRESH.name) });
      expectStatus(await me(client), 200, 'me while logged in');
      expectProblem(await client.post('/dashboard/auth/logout'), 403, 'csrf_required', 'logout without X-Pacspace-CSRF');
      expectProblem(await client.post('/dashboard/auth/logout', { headers: { 'X-Pacspace-CSRF': 'true' } }), 403, 'csrf_required', 'logout with X-Pacspace-CSRF: true');
      expectStatus(await me(client), 200, 'me after the refused logouts (they must change nothing)');
      const out = await client.post('/dashboard/auth/logout', { headers: CSRF });
      expectStatus(out, 200, 'logout');
      judgeSessionCookies(out, 'clear', 'logout', infra);
      expectProblem(await me(client, cookies), 401, 'unauthenticated', 'the access cookie after logout');
      const refreshed = await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: refreshCookie } });
      expectProblem(refreshed, 401, 'unauthenticated', 'the refresh cookie after logout');
      expectNoNewSession(refreshed, 'a refused refresh', infra);
      await expectSharedSessionAlive(ctx, 'another session logged out');
    },
  }),
  defineCheck({
    id: 'SESSION-005',
    rule: 'Refresh needs the CSRF header, then rotates both cookies (same attributes, new values, expiry times only in the body); reusing a rotated refresh cookie is 401 and revokes every access and refresh cookie of the family, and only that family.',
    source: 'PRODUCT.md Surfaces and auth (reuse revokes the family); openapi op refreshSession; openapi SessionInfo',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      // Its own session, knowingly: detected reuse revokes the whole session family.
      const client = await ctx.loginClient();
      const original = new Map(client.jar);
      for (const headers of [{}, { 'X-Pacspace-CSRF': '0' }] as Array<Record<string, string>>) {
        const refused = await client.post('/dashboard/auth/refresh', { headers });
        expectProblem(refused, 403, 'csrf_required', `refresh with ${'X-Pacspace-CSRF' in headers ? 'X-Pacspace-CSRF: 0' : 'no X-Pacspace-CSRF'}`);
        expectNoNewSession(refused, 'a refused refresh', infra);
      }
      ensure(sameJson(Object.fromEntries(client.jar), Object.fromEntries(original)), 'a refused refresh changed the cookies');
      const refreshed = await client.post('/dashboard/auth/refresh', { headers: CSRF });
      expectStatus(refreshed, 200, 'refresh (after the refused ones, the refresh cookie must still be good)');
      const access = cookieValue(refreshed, ACCESS.name);
      const refresh = cookieValue(refreshed, REFRESH.name);
      for (const v of [access, refresh]) ctx.secrets.add(v, 'a session cookie', refreshed.id);
      judgeSessionCookies(refreshed, 'set', 'refresh', infra);
      ensure(refresh !== original.get(REFRESH.name), 'refresh did not rotate the refresh cookie');
      ensure(access !== original.get(ACCESS.name), 'refresh did not issue a new access cookie');
      expectNoCredentialsIn(refreshed, 'the refresh answer', [access, refresh, ...original.values()]);
      const d = refreshed.body?.data ?? {};
      const now = serverNow(refreshed);
      const near = (at: unknown, seconds: number) => typeof at === 'string' && Math.abs(Date.parse(at) - (now + seconds * 1000)) <= 60_000;
      ensure(near(d.accessExpiresAt, ACCESS.maxAge), `accessExpiresAt ${d.accessExpiresAt} is not 15 minutes after the answer's Date`);
      ensure(near(d.refreshExpiresAt, REFRESH.maxAge), `refreshExpiresAt ${d.refreshExpiresAt} is not 14 days after the answer's Date`);
      expectStatus(await me(client), 200, 'me with the new access cookie');

      const reuse = await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: cookieHeader(Object.fromEntries(original)) } });
      expectProblem(reuse, 401, 'unauthenticated', 'reusing a rotated refresh cookie');
      expectNoNewSession(reuse, 'the refused reuse', infra);
      expectProblem(await me(client, cookieHeader({ [ACCESS.name]: access })), 401, 'unauthenticated', 'the newest access cookie after reuse was detected');
      expectProblem(await me(client, cookieHeader({ [ACCESS.name]: original.get(ACCESS.name) })), 401, 'unauthenticated', 'the first access cookie after reuse was detected');
      const newest = await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: cookieHeader({ [REFRESH.name]: refresh }) } });
      expectProblem(newest, 401, 'unauthenticated', 'the newest refresh cookie after reuse was detected');
      await expectSharedSessionAlive(ctx, 'another session\'s family was revoked');
    },
  }),
  defineCheck({
    id: 'SESSION-006',
    rule: 'A failed login answers the same 401 invalid_credentials for an unknown email and a wrong password, and sets no cookie.',
    source: 'PRODUCT.md (no user enumeration); openapi op login; OWASP API2:2023',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const unknown = await ctx.loginAttempt(unknownEmail('login'), 'wrong-password-123');
      const wrong = await ctx.loginAttempt(ctx.config.email!, `not-the-password-${Date.now().toString(36)}`);
      expectProblem(unknown, 401, 'invalid_credentials', 'unknown email');
      expectProblem(wrong, 401, 'invalid_credentials', 'wrong password');
      expectNoCookie(unknown, 'a failed login (unknown email)', infra);
      expectNoCookie(wrong, 'a failed login (wrong password)', infra);
      ensure(sameJson(withoutRequestId(unknown.body), withoutRequestId(wrong.body)), 'the two failures differ: the answer tells whether the email exists');
      for (const h of ['retry-after', 'www-authenticate']) ensure(unknown.headers[h] === wrong.headers[h], `the two failures differ in ${h}`);
    },
  }),
  defineCheck({
    id: 'SESSION-007',
    rule: 'A password-reset request answers the same 202 whether or not the email belongs to an account, and changes nothing yet (the account\'s session stays valid).',
    source: 'PRODUCT.md (no user enumeration); openapi op requestPasswordReset; OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      // Public: no cookie and no CSRF header.
      const ask = (email: string) => dash.post('/dashboard/auth/request-password-reset', { noCookies: true, json: { email } });
      const known = await ask(ctx.config.email!);
      const unknown = await ask(unknownEmail('reset'));
      expectStatus(known, 202, 'a reset request for the account\'s email');
      expectStatus(unknown, 202, 'a reset request for an unknown email');
      ensure(sameJson(withoutRequestId(known.body), withoutRequestId(unknown.body)), 'the reset answers differ: they tell whether the email exists');
      // Asking changes no password and ends no session: only reset-password with the e-mailed token does.
      expectStatus(await me(dash), 200, 'the run\'s session after a password reset was requested for its account');
    },
  }),
  defineCheck({
    id: 'SESSION-008',
    rule: 'A dashboard session cookie cannot call the Balance API, and a bearer token cannot call the Dashboard API.',
    source: 'seed 000 (two surfaces, two mechanisms); PRODUCT.md (Bearer superseded)',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const cookie = jarHeader(dash);
      expectProblem(await ctx.api.get('/api/v1/balance/derive/customer_001', { headers: { cookie } }), 401, 'unauthenticated', 'a session cookie on the Balance API');
      const access = dash.jar.get('pacspace_access') ?? 'x';
      expectProblem(await dash.get('/dashboard/api-keys', { noCookies: true, headers: { Authorization: `Bearer ${access}` } }), 401, 'unauthenticated', 'Authorization: Bearer on the Dashboard API');
    },
  }),
  defineCheck({
    id: 'SESSION-009',
    rule: 'Each login is a new, independent session (other sessions stay valid); the email is compared case-insensitively; me returns the logged-in user.',
    source: 'openapi op login; openapi op getCurrentUser; openapi #/components/schemas/EmailAddress',
    needs: ['dashboard'],
    async run(ctx) {
      const shared = await ctx.dashboard();
      const first = (await ctx.dashboardLogin()).body?.data ?? {};
      const email = ctx.config.email!;
      // The same account, its address spelled in other case: a second, independent session.
      const respelled = email === email.toUpperCase() ? email.toLowerCase() : email.toUpperCase();
      const client = await ctx.loginClient(respelled);
      const sessions = [['the first session', shared], ['a second session', client]] as const;
      for (const [label, c] of sessions) {
        const res = await me(c);
        expectStatus(res, 200, `me on ${label}`);
        const u = res.body?.data ?? {};
        ensure(u.id === first.id && u.tenantId === first.tenantId, `me on ${label} answers user ${u.id} of tenant ${u.tenantId}, not the logged-in ${first.id} of ${first.tenantId}`);
        ensure(typeof u.email === 'string' && u.email.toLowerCase() === email.toLowerCase(), `me on ${label} answers another email than the logged-in user's`);
      }
      ensure(jarHeader(client) !== jarHeader(shared), 'the second login got the first session\'s cookies');
      expectStatus(await client.post('/dashboard/auth/logout', { headers: CSRF }), 200, 'logging the second session out');
      await expectSharedSessionAlive(ctx, 'the second session logged out');
    },
  }),
  defineCheck({
    id: 'SESSION-010',
    rule: 'Refresh with a missing or unknown refresh cookie is 401 unauthenticated and issues no cookie.',
    source: 'openapi op refreshSession',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const dash = await ctx.dashboard();
      const cases: Array<[string, Record<string, string>]> = [
        ['no cookie', {}],
        ['only the access cookie', { cookie: cookieHeader({ [ACCESS.name]: dash.jar.get(ACCESS.name) }) }],
        ['an unknown refresh cookie', { cookie: cookieHeader({ [REFRESH.name]: `conformance${ctx.runTag}unknownrefreshvalue` }) }],
      ];
      for (const [what, headers] of cases) {
        const res = await dash.post('/dashboard/auth/refresh', { noCookies: true, headers: { ...CSRF, ...headers } });
        expectProblem(res, 401, 'unauthenticated', `refresh with ${what}`);
        expectNoNewSession(res, `refresh with ${what}`, infra);
      }
      await expectSharedSessionAlive(ctx, 'refused refreshes');
    },
  }),
  defineCheck({
    id: 'SESSION-011',
    rule: 'After 5 failed logins for an email (counted case-insensitively) a further attempt is 429 with Retry-After and starts no session.',
    source: 'PRODUCT.md Surfaces and auth; openapi op login',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      // An address no account has: the real account is never locked. 6 attempts in all.
      const email = unknownEmail(`throttle-${ctx.runTag}`);
      const spellings = [email, email.toUpperCase(), email, email.replace(/^n/, 'N'), email];
      for (const [i, spelling] of spellings.entries()) {
        expectProblem(await ctx.loginAttempt(spelling, `wrong-password-${i}`), 401, 'invalid_credentials', `failed login ${i + 1} of 5`);
      }
      const client = await ctx.dashboard();
      const locked = await client.post('/dashboard/auth/login', { noCookies: true, retry: 'unavailable-only', json: { email: email.toUpperCase(), password: 'wrong-password-6' } });
      expectStatus(locked, 429, 'a sixth login attempt for the address within 15 minutes');
      ensure(/^\d+$/.test(locked.headers['retry-after'] ?? ''), `the 429 must carry Retry-After in seconds, has "${locked.headers['retry-after'] ?? ''}"`);
      expectNoNewSession(locked, 'a throttled login', infra);
    },
  }),
];
