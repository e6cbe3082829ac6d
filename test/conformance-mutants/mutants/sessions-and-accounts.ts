// Mutants of the session, cookie, CSRF and account rows (R-SESS, R-COOK, R-CSRF, R-ACCT): each
// breaks the rule row(s) it names the way a buggy server would, from the HTTP boundary. The
// legacy sandbox faults of these areas are here too (their old names in the descriptions).
import {
  answer,
  contractOperations,
  defineMutants,
  header,
  isOperation,
  json,
  mapJson,
  observing,
  onRequest,
  onResponse,
  problem,
  setCookies,
  withHeaders,
  type Mutant,
  type MutantContext,
  type ProxiedRequest,
  type ProxiedResponse,
} from '../mutant.ts';

const ACCESS = 'pacspace_access';
const REFRESH = 'pacspace_refresh';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------------------------------------
// Reading and rewriting cookies.

/** The value of a cookie the request sent. */
function requestCookie(req: ProxiedRequest, name: string): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const cookieName = (line: string) => line.split(';')[0]!.split('=')[0]!.trim();
const cookieValueOf = (res: ProxiedResponse, name: string) => setCookies(res).find((l) => cookieName(l) === name)?.split(';')[0]!.split('=').slice(1).join('=');

type LineChange = (line: string) => string | undefined;

/** Rewrites (or, when `change` answers undefined, drops) the Set-Cookie lines of the named cookies. */
function rewriteCookies(res: ProxiedResponse, names: string[], change: LineChange): ProxiedResponse {
  const lines = setCookies(res);
  if (!lines.length) return res;
  const out = lines.flatMap((l) => (names.includes(cookieName(l)) ? [change(l)].filter((x): x is string => x !== undefined) : [l]));
  return withHeaders(res, { 'set-cookie': out.length ? out : undefined });
}

const attrName = (part: string) => part.split('=')[0]!.trim().toLowerCase();
const dropAttr = (attr: string): LineChange => (line) => line.split(';').filter((p, i) => i === 0 || attrName(p) !== attr.toLowerCase()).join(';');
const setAttr = (attr: string, value: string): LineChange => (line) => `${dropAttr(attr)(line)}; ${attr}=${value}`;
const setValue = (value: string): LineChange => (line) => `${cookieName(line)}=${value};${line.split(';').slice(1).join(';')}`;

/** The two cookies cleared, as a server that clears them on some answer would. */
const clearing = [`${ACCESS}=; Path=/dashboard; Max-Age=0; HttpOnly; Secure; SameSite=Strict`, `${REFRESH}=; Path=/dashboard/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict`];

// ---------------------------------------------------------------------------------------------
// What a server knows: accounts (by the logins and registrations it answered) and sessions.

const lower = (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : '');
const setOf = (ctx: MutantContext, name: string): Set<string> => {
  if (!ctx.memory.has(name)) ctx.memory.set(name, new Set<string>());
  return ctx.memory.get(name);
};

type Session = { access?: string; refresh?: string };

/** Learns accounts and sessions from every answer, then hands the response on. */
function learn(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext): ProxiedResponse {
  if (isOperation(req, 'login') && res.status === 200) {
    setOf(ctx, 'accounts').add(lower(json(req)?.email));
    if (json(res)?.data?.isVerified === true) setOf(ctx, 'verified').add(lower(json(req)?.email));
    const sessions: Session[] = ctx.memory.get('sessions') ?? [];
    sessions.push({ access: cookieValueOf(res, ACCESS), refresh: cookieValueOf(res, REFRESH) });
    ctx.memory.set('sessions', sessions);
  }
  if (isOperation(req, 'register') && res.status === 201) setOf(ctx, 'accounts').add(lower(json(req)?.email));
  return res;
}

/** A mutant whose `exchange` sees what the server learned first. */
const knowing = (m: Mutant): Mutant => observing(learn, m);

/** Logs every remembered session out but the one that made this request (a server ending "all other sessions"). */
async function logoutOthers(ctx: MutantContext, req: ProxiedRequest) {
  const mine = requestCookie(req, ACCESS);
  for (const s of (ctx.memory.get('sessions') ?? []) as Session[]) {
    if (!s.access || s.access === mine) continue;
    await ctx.forward({ listener: req.listener, method: 'POST', url: '/dashboard/auth/logout', headers: { cookie: `${ACCESS}=${s.access}`, 'x-pacspace-csrf': '1' }, body: Buffer.alloc(0) });
  }
}

const accepted = (message: string) => (res: ProxiedResponse) => (res.status === 202 ? mapJson(res, (b) => void (b.data.message = message)) : res);
const emailOf = (req: ProxiedRequest) => lower(json(req)?.email);
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// ---------------------------------------------------------------------------------------------
// R-SESS

const sessMutants: Mutant[] = [
  onResponse('acct-login-answers-password', ['R-ACCT-012'], 'Login answers the user with the password it was sent, as `hint`.', ['login'], (res, req) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.hint = json(req)?.password)) : res,
  ),
  onResponse('sess-login-returns-token', ['R-SESS-001'], 'Login puts the access cookie\'s value in the body as `accessToken` (legacy login-returns-token).', ['login'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.accessToken = cookieValueOf(res, ACCESS))) : res,
  ),
  onResponse('sess-login-sets-csrf-cookie', ['R-SESS-002'], 'Login also sets a double-submit `pacspace_csrf` cookie the contract does not have.', ['login'], (res) =>
    res.status === 200 ? withHeaders(res, { 'set-cookie': [...setCookies(res), 'pacspace_csrf=c8f1e2d3a4b5; Path=/; Max-Age=900; Secure; SameSite=Strict'] }) : res,
  ),
  knowing({
    id: 'sess-login-ends-other-sessions',
    rules: ['R-SESS-003'],
    description: 'A new login logs the user\'s earlier sessions out (one session per user).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'login') && res.status === 200) await logoutOthers(ctx, { ...req, headers: { cookie: `${ACCESS}=${cookieValueOf(res, ACCESS)}` } });
      return res;
    },
  }),
  {
    id: 'sess-refresh-not-rotated',
    rules: ['R-SESS-005'],
    description: 'Refresh sets the refresh cookie the client presented again instead of a new one.',
    async exchange(req, next) {
      const res = await next(req);
      const presented = requestCookie(req, REFRESH);
      return isOperation(req, 'refreshSession') && res.status === 200 && presented ? rewriteCookies(res, [REFRESH], setValue(presented)) : res;
    },
  },
  {
    id: 'sess-refresh-reuse-undetected',
    rules: ['R-SESS-006'],
    description: 'A rotated refresh cookie presented again gets the answer it got the first time (a cached refresh), the family is not revoked (legacy refresh-reuse-undetected).',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'refreshSession') || header(req, 'x-pacspace-csrf') !== '1') return next(req);
      const presented = requestCookie(req, REFRESH);
      const seen = presented && ctx.memory.get(`refresh:${presented}`);
      if (seen) return seen;
      const res = await next(req);
      if (res.status === 200 && presented) ctx.memory.set(`refresh:${presented}`, res);
      return res;
    },
  },
  {
    id: 'sess-reuse-refused-family-kept',
    rules: ['R-SESS-006'],
    description: 'A rotated refresh cookie presented again is refused with 401, but the rest of its family stays valid.',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'refreshSession') || header(req, 'x-pacspace-csrf') !== '1') return next(req);
      const presented = requestCookie(req, REFRESH);
      if (presented && ctx.memory.has(`spent:${presented}`)) return problem(401, 'unauthenticated', 'The refresh cookie is not valid.');
      const res = await next(req);
      if (res.status === 200 && presented) ctx.memory.set(`spent:${presented}`, true);
      return res;
    },
  },
  onRequest('sess-refresh-without-cookie-400', ['R-SESS-007'], 'Refresh without a refresh cookie is 400 instead of 401.', ['refreshSession'], (req) =>
    requestCookie(req, REFRESH) ? req : problem(400, 'invalid_token', 'No refresh cookie was sent.'),
  ),
  onResponse('sess-refused-refresh-issues-cookie', ['R-SESS-007'], 'A refused refresh still issues a fresh (anonymous) access cookie.', ['refreshSession'], (res) =>
    res.status === 401 ? withHeaders(res, { 'set-cookie': [`${ACCESS}=anon${Date.now().toString(36)}; Path=/dashboard; Max-Age=900; HttpOnly; Secure; SameSite=Strict`] }) : res,
  ),
  onResponse('sess-refresh-access-lives-an-hour', ['R-SESS-009'], 'The refresh answer says the access cookie lives an hour.', ['refreshSession'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.accessExpiresAt = new Date(Date.parse(b.data.accessExpiresAt) + 45 * 60_000).toISOString())) : res,
  ),
  onResponse('sess-refresh-answers-token', ['R-SESS-009'], 'The refresh answer carries the new refresh cookie\'s value as `refreshToken`.', ['refreshSession'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.refreshToken = cookieValueOf(res, REFRESH))) : res,
  ),
  onRequest('sess-logout-keeps-session', ['R-SESS-010'], 'Logout answers 200 and clears the cookies, but the session is never revoked (legacy logout-keeps-session).', ['logout'], (req) =>
    header(req, 'x-pacspace-csrf') === '1' && requestCookie(req, ACCESS) ? answer(200, { statusCode: 200, data: { message: 'You have been logged out.' } }, { 'set-cookie': clearing }) : req,
  ),
  {
    id: 'sess-logout-keeps-refresh-family',
    rules: ['R-SESS-010'],
    description: 'Logout revokes the access cookie only: the logged-out refresh cookie still refreshes (the server keeps a second family per login).',
    async exchange(req, next, ctx) {
      if (isOperation(req, 'login')) {
        const res = await next(req);
        if (res.status !== 200) return res;
        // The shadow family, kept behind the client's refresh cookie.
        const shadow = await next(req);
        ctx.memory.set(`shadow:${cookieValueOf(res, REFRESH)}`, cookieValueOf(shadow, REFRESH));
        return res;
      }
      if (isOperation(req, 'logout')) {
        const res = await next(req);
        const refresh = requestCookie(req, REFRESH);
        if (res.status === 200 && refresh) ctx.memory.set(`out:${refresh}`, true);
        return res;
      }
      const refresh = requestCookie(req, REFRESH);
      if (isOperation(req, 'refreshSession') && refresh && ctx.memory.has(`out:${refresh}`) && ctx.memory.has(`shadow:${refresh}`)) {
        return next({ ...req, headers: { ...req.headers, cookie: `${REFRESH}=${ctx.memory.get(`shadow:${refresh}`)}` } });
      }
      return next(req);
    },
  },
  knowing({
    id: 'sess-logout-ends-every-session',
    rules: ['R-SESS-011'],
    description: 'Logout ends every session of the user, not only the current one.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'logout') && res.status === 200) await logoutOthers(ctx, req);
      return res;
    },
  }),
  onResponse('sess-me-answers-owner-address', ['R-SESS-012'], 'me answers the tenant\'s contact address instead of the user\'s email.', ['getCurrentUser'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.email = `billing@${String(b.data.email).split('@')[1]}`)) : res,
  ),
  knowing({
    id: 'sess-login-tells-unknown-email',
    rules: ['R-SESS-015'],
    description: 'A failed login for an address no account has says so in its detail (legacy login-tells-unknown-email).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'login') || res.status !== 401 || setOf(ctx, 'accounts').has(emailOf(req))) return res;
      return mapJson(res, (p) => void (p.detail = 'No account uses this email address.'));
    },
  }),
  onResponse('sess-no-login-throttle', ['R-SESS-016'], 'Failed logins are never throttled per address: the attempt gets its 401 as always.', ['login'], (res) =>
    res.status === 429 ? problem(401, 'invalid_credentials', 'The email or password is incorrect.') : res,
  ),
  onResponse('sess-login-throttle-without-retry-after', ['R-SESS-016'], 'A throttled login is 429 without Retry-After.', ['login'], (res) =>
    res.status === 429 ? withHeaders(res, { 'retry-after': undefined }) : res,
  ),
  onResponse('sess-unverified-cannot-log-in', ['R-SESS-017'], 'Login refuses a user whose email is not verified (403 email_not_verified).', ['login'], (res) =>
    res.status === 200 && json(res)?.data?.isVerified === false ? problem(403, 'email_not_verified', 'Verify your email address first.') : res,
  ),
  onRequest('sess-login-case-sensitive', ['R-SESS-018'], 'Login compares the email exactly as typed: an address in other case is unknown.', ['login'], (req) => {
    const email = json(req)?.email;
    return typeof email === 'string' && email !== email.toLowerCase() ? problem(401, 'invalid_credentials', 'The email or password is incorrect.') : req;
  }),
];

// ---------------------------------------------------------------------------------------------
// R-COOK: every attribute of every cookie, on login, refresh and logout.

const LOGIN_COOKIE_FAULTS: Array<[rule: string, cookie: string, what: string, description: string, change: LineChange]> = [
  ['R-COOK-001', ACCESS, 'access-without-httponly', 'the access cookie without HttpOnly', dropAttr('HttpOnly')],
  ['R-COOK-002', ACCESS, 'access-without-secure', 'the access cookie without Secure', dropAttr('Secure')],
  ['R-COOK-003', ACCESS, 'access-samesite-lax', 'the access cookie SameSite=Lax', setAttr('SameSite', 'Lax')],
  ['R-COOK-003', ACCESS, 'access-samesite-none', 'the access cookie SameSite=None', setAttr('SameSite', 'None')],
  ['R-COOK-004', ACCESS, 'access-path-root', 'the access cookie with Path=/ (sent to the Balance API too)', setAttr('Path', '/')],
  ['R-COOK-004', ACCESS, 'access-without-path', 'the access cookie without Path (a browser scopes it to /dashboard/auth)', dropAttr('Path')],
  ['R-COOK-005', ACCESS, 'access-lives-a-day', 'the access cookie with Max-Age=86400', setAttr('Max-Age', '86400')],
  ['R-COOK-005', ACCESS, 'access-session-cookie', 'the access cookie without Max-Age (a browser-session cookie)', dropAttr('Max-Age')],
  ['R-COOK-006', REFRESH, 'refresh-without-httponly', 'the refresh cookie without HttpOnly', dropAttr('HttpOnly')],
  ['R-COOK-007', REFRESH, 'refresh-without-secure', 'the refresh cookie without Secure', dropAttr('Secure')],
  ['R-COOK-008', REFRESH, 'refresh-samesite-lax', 'the refresh cookie SameSite=Lax', setAttr('SameSite', 'Lax')],
  ['R-COOK-009', REFRESH, 'refresh-path-dashboard', 'the refresh cookie with Path=/dashboard (sent to every dashboard route)', setAttr('Path', '/dashboard')],
  ['R-COOK-009', REFRESH, 'refresh-path-root', 'the refresh cookie with Path=/', setAttr('Path', '/')],
  ['R-COOK-010', REFRESH, 'refresh-lives-30-days', 'the refresh cookie with Max-Age=2592000', setAttr('Max-Age', '2592000')],
  ['R-COOK-010', REFRESH, 'refresh-expires-disagrees', 'the refresh cookie with Max-Age=1209600 but an Expires a year ahead', (l) => `${l}; Expires=${new Date(Date.now() + 365 * 86_400_000).toUTCString()}`],
];

const onCookies = (id: string, rules: string[], description: string, operation: string, names: string[], change: LineChange, status = 200) =>
  onResponse(id, rules, description, [operation], (res) => (res.status === status ? rewriteCookies(res, names, change) : res));

const cookMutants: Mutant[] = [
  ...LOGIN_COOKIE_FAULTS.map(([rule, cookie, what, description, change]) => onCookies(`cook-login-${what}`, [rule], `Login sets ${description}.`, 'login', [cookie], change)),
  onCookies('cook-without-httponly', ['R-COOK-001', 'R-COOK-006'], 'Login sets both cookies without HttpOnly (legacy cookie-without-httponly).', 'login', [ACCESS, REFRESH], dropAttr('HttpOnly')),
  onCookies('cook-without-secure', ['R-COOK-002', 'R-COOK-007'], 'Login sets both cookies without Secure (legacy cookie-without-secure).', 'login', [ACCESS, REFRESH], dropAttr('Secure')),
  onCookies('cook-without-samesite', ['R-COOK-003', 'R-COOK-008'], 'Login sets both cookies without SameSite (legacy cookie-without-samesite).', 'login', [ACCESS, REFRESH], dropAttr('SameSite')),
  onCookies('cook-refresh-without-httponly', ['R-COOK-011'], 'Refresh sets both new cookies without HttpOnly.', 'refreshSession', [ACCESS, REFRESH], dropAttr('HttpOnly')),
  onCookies('cook-refresh-samesite-lax', ['R-COOK-011'], 'Refresh sets both new cookies SameSite=Lax.', 'refreshSession', [ACCESS, REFRESH], setAttr('SameSite', 'Lax')),
  onCookies('cook-refresh-access-path-root', ['R-COOK-011'], 'Refresh sets the new access cookie with Path=/.', 'refreshSession', [ACCESS], setAttr('Path', '/')),
  onCookies('cook-refresh-sets-no-access-cookie', ['R-COOK-011'], 'Refresh sets only the refresh cookie (the client keeps an expiring access cookie).', 'refreshSession', [ACCESS], () => undefined),
  onCookies('cook-refresh-refresh-lives-15-minutes', ['R-COOK-011'], 'Refresh sets the new refresh cookie with the access cookie\'s Max-Age=900.', 'refreshSession', [REFRESH], setAttr('Max-Age', '900')),
  onCookies('cook-logout-clears-nothing', ['R-COOK-012'], 'Logout sets no clearing cookies (the browser keeps the dead ones).', 'logout', [ACCESS, REFRESH], () => undefined),
  onCookies('cook-logout-clears-access-only', ['R-COOK-012'], 'Logout clears the access cookie only.', 'logout', [REFRESH], () => undefined),
  onCookies('cook-logout-clears-at-root', ['R-COOK-012'], 'Logout clears both cookies with Path=/, which clears neither in a browser.', 'logout', [ACCESS, REFRESH], setAttr('Path', '/')),
  onCookies('cook-logout-clear-without-secure', ['R-COOK-012'], 'Logout clears both cookies without Secure.', 'logout', [ACCESS, REFRESH], dropAttr('Secure')),
  onCookies('cook-logout-clear-max-age-1', ['R-COOK-012'], 'Logout "clears" both cookies with Max-Age=1 instead of 0.', 'logout', [ACCESS, REFRESH], setAttr('Max-Age', '1')),
  onCookies('cook-login-domain', ['R-COOK-016'], 'Login sets both cookies with a Domain attribute (sent to every subdomain).', 'login', [ACCESS, REFRESH], setAttr('Domain', 'pacspace.io')),
  onCookies('cook-refresh-domain', ['R-COOK-016'], 'Refresh sets both cookies with a Domain attribute.', 'refreshSession', [ACCESS, REFRESH], setAttr('Domain', 'pacspace.io')),
  onResponse('cook-me-shows-session-id', ['R-COOK-013'], 'me shows the access cookie\'s value as the session\'s `handle`.', ['getCurrentUser'], (res, req) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.handle = requestCookie(req, ACCESS))) : res,
  ),
  onResponse('cook-refresh-body-repeats-cookie', ['R-COOK-013'], 'The refresh answer repeats the new access cookie\'s value as `handle`.', ['refreshSession'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.handle = cookieValueOf(res, ACCESS))) : res,
  ),
  onResponse('cook-failed-login-clears-cookies', ['R-COOK-014'], 'A failed login clears both cookies with Set-Cookie.', ['login'], (res) =>
    res.status === 401 || res.status === 429 ? withHeaders(res, { 'set-cookie': clearing }) : res,
  ),
  {
    id: 'cook-register-starts-session',
    rules: ['R-COOK-015'],
    description: 'Register logs the new user in: its answer sets the session cookies.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'register') || res.status !== 201) return res;
      const { email, password } = json(req) ?? {};
      const login = await next({ ...req, url: '/dashboard/auth/login', body: Buffer.from(JSON.stringify({ email, password })) });
      return withHeaders(res, { 'set-cookie': setCookies(login) });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// R-CSRF: every unsafe cookie route, and the public ones.

const csrfOperations = contractOperations.filter((o) => UNSAFE.has(o.method.toUpperCase()) && JSON.stringify(o.operation.security ?? []).includes('CsrfHeader')).map((o) => o.operationId);
const publicOperations = contractOperations.filter((o) => o.path.startsWith('/dashboard/') && Array.isArray(o.operation.security) && o.operation.security.length === 0).map((o) => o.operationId);

const withCsrf = (req: ProxiedRequest): ProxiedRequest => ({ ...req, headers: { ...req.headers, 'x-pacspace-csrf': '1' } });

const csrfMutants: Mutant[] = [
  onRequest('csrf-not-enforced', ['R-CSRF-001'], 'Unsafe dashboard requests without X-Pacspace-CSRF: 1 are accepted (legacy csrf-not-enforced).', csrfOperations, (req) => (header(req, 'x-pacspace-csrf') === undefined ? withCsrf(req) : req)),
  ...csrfOperations.map((op) =>
    onRequest(`csrf-not-enforced-on-${kebab(op)}`, ['R-CSRF-001'], `${op} without X-Pacspace-CSRF is accepted (the check is missing on this route).`, [op], (req) => (header(req, 'x-pacspace-csrf') === undefined ? withCsrf(req) : req)),
  ),
  onRequest('csrf-any-value-accepted', ['R-CSRF-002'], 'Any X-Pacspace-CSRF value is accepted, not only `1` (the header is only tested for presence).', csrfOperations, (req) => {
    const v = header(req, 'x-pacspace-csrf');
    return v !== undefined && v !== '1' ? withCsrf(req) : req;
  }),
  onRequest('csrf-required-on-get', ['R-CSRF-003'], 'GET dashboard routes demand X-Pacspace-CSRF too.', (req) => req.method === 'GET' && req.url.startsWith('/dashboard/') && !publicOperations.some((op) => isOperation(req, op)), (req) =>
    header(req, 'x-pacspace-csrf') === '1' ? req : problem(403, 'csrf_required', 'Send X-Pacspace-CSRF: 1.'),
  ),
  ...publicOperations.map((op) =>
    onRequest(`csrf-required-on-${kebab(op)}`, ['R-CSRF-004'], `The public ${op} demands X-Pacspace-CSRF.`, [op], (req) =>
      header(req, 'x-pacspace-csrf') === '1' ? req : problem(403, 'csrf_required', 'Send X-Pacspace-CSRF: 1.'),
    ),
  ),
];

// ---------------------------------------------------------------------------------------------
// R-ACCT

const acctMutants: Mutant[] = [
  knowing({
    id: 'acct-request-access-tells-account',
    rules: ['R-ACCT-001'],
    description: 'request-access for an address that has an account says so.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      return isOperation(req, 'requestAccess') && setOf(ctx, 'accounts').has(emailOf(req)) ? accepted('This address already has an account: log in instead.')(res) : res;
    },
  }),
  {
    id: 'acct-request-access-tells-pending',
    rules: ['R-ACCT-001'],
    description: 'request-access for an address with a request already says so.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'requestAccess')) return res;
      const asked = setOf(ctx, 'asked');
      const repeated = asked.has(emailOf(req));
      asked.add(emailOf(req));
      return repeated ? accepted('We already have your request; hang tight.')(res) : res;
    },
  },
  onResponse('acct-register-verified-at-once', ['R-ACCT-003'], 'register answers the new user as verified.', ['register'], (res) => (res.status === 201 ? mapJson(res, (b) => void (b.data.isVerified = true)) : res)),
  onResponse('acct-register-member-role', ['R-ACCT-003'], 'register makes the registering user a `member` of its tenant, not its owner.', ['register'], (res) => (res.status === 201 ? mapJson(res, (b) => void (b.data.role = 'member')) : res)),
  {
    id: 'acct-register-ignores-bad-token',
    rules: ['R-ACCT-004'],
    description: 'register with an access token that is not valid creates the account anyway, as if no token was given.',
    async exchange(req, next) {
      const res = await next(req);
      if (!isOperation(req, 'register') || res.status !== 400 || json(res)?.code !== 'invalid_token') return res;
      const { accessToken: _ignored, ...body } = json(req) ?? {};
      return next({ ...req, body: Buffer.from(JSON.stringify(body)) });
    },
  },
  knowing({
    id: 'acct-register-tells-account-before-token',
    rules: ['R-ACCT-004'],
    description: 'register checks the address before the access token: an existing address is 409 account_exists whatever the token.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      return isOperation(req, 'register') && res.status === 400 && setOf(ctx, 'accounts').has(emailOf(req)) ? problem(409, 'account_exists', 'An account with this email already exists.') : res;
    },
  }),
  onResponse('acct-verify-malformed-is-invalid-token', ['R-ACCT-007'], 'verify answers a missing or malformed token with 400 invalid_token instead of 422.', ['verifyEmail'], (res) =>
    res.status === 422 ? problem(400, 'invalid_token', 'The verification token is not valid.') : res,
  ),
  onResponse('acct-verify-unknown-404', ['R-ACCT-007'], 'verify answers an unknown token with 404 not_found.', ['verifyEmail'], (res) =>
    res.status === 400 ? problem(404, 'not_found', 'No such verification token.') : res,
  ),
  onResponse('acct-register-approved-without-request', ['R-ACCT-005'], 'An account registered without an access token or an approved request is approved at once.', ['getCurrentUser'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.approvalStatus = 'approved')) : res,
  ),
  knowing({
    id: 'acct-reset-request-ends-sessions',
    rules: ['R-ACCT-010'],
    description: 'Asking for a password reset already invalidates the old password and ends the account\'s sessions.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'requestPasswordReset') && res.status === 202 && setOf(ctx, 'accounts').has(emailOf(req))) await logoutOthers(ctx, req);
      return res;
    },
  }),
  knowing({
    id: 'acct-resend-tells-unknown-email',
    rules: ['R-ACCT-008'],
    description: 'resend-verification-email for an address no account has says so.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      return isOperation(req, 'resendVerificationEmail') && !setOf(ctx, 'accounts').has(emailOf(req)) ? accepted('No account uses this address.')(res) : res;
    },
  }),
  knowing({
    id: 'acct-resend-tells-verified',
    rules: ['R-ACCT-008'],
    description: 'resend-verification-email for a verified address says it is verified already.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      return isOperation(req, 'resendVerificationEmail') && setOf(ctx, 'verified').has(emailOf(req)) ? accepted('This address is already verified.')(res) : res;
    },
  }),
  knowing({
    id: 'acct-reset-tells-unknown-email',
    rules: ['R-ACCT-009'],
    description: 'request-password-reset for an address no account has is 404 instead of the same 202 (legacy reset-tells-unknown-email).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      return isOperation(req, 'requestPasswordReset') && res.status === 202 && !setOf(ctx, 'accounts').has(emailOf(req)) ? problem(404, 'not_found', 'No account uses this email address.') : res;
    },
  }),
  knowing({
    id: 'acct-bad-reset-token-ends-sessions',
    rules: ['R-ACCT-011'],
    description: 'reset-password with a token that is not valid still ends the sessions (revocation happens before the token is checked).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'resetPassword') && res.status === 400) await logoutOthers(ctx, req);
      return res;
    },
  }),
  onResponse('acct-bad-reset-token-422', ['R-ACCT-011'], 'reset-password answers an unknown token with 422 validation_failed instead of 400 invalid_token.', ['resetPassword'], (res) =>
    res.status === 400 ? mapJson({ ...res, status: 422 }, (p) => ({ ...p, status: 422, code: 'validation_failed' })) : res,
  ),
  onResponse('acct-register-answers-password-hash', ['R-ACCT-012'], 'register answers the user with its `passwordHash`.', ['register'], (res) =>
    res.status === 201 ? mapJson(res, (b) => void (b.data.passwordHash = 'scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo')) : res,
  ),
  onResponse('acct-me-answers-password-hash', ['R-ACCT-012'], 'me answers the user with its stored credentials (the password hash, as `credentials`).', ['getCurrentUser'], (res) =>
    res.status === 200 ? mapJson(res, (b) => void (b.data.credentials = '$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')) : res,
  ),
];

export const sessionsAndAccountsMutants = defineMutants([...sessMutants, ...cookMutants, ...csrfMutants, ...acctMutants]);
