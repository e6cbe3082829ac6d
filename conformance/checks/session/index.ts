// Dashboard sessions (seed 000 "Dashboard API - Browser Session Authentication", PRODUCT.md
// "Surfaces and auth"; OWASP API2:2023 Broken Authentication).
import { defineCheck } from '../../check.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import { sameJson } from '../../lib/json.ts';

const cookieAttrs = (setCookie: string) => setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());

export const sessionChecks = [
  defineCheck({
    id: 'SESSION-001',
    rule: 'The login response body holds user data and no token.',
    source: 'seed 000 Starting a Session (not bearer tokens); PRODUCT.md',
    needs: ['dashboard'],
    async run(ctx) {
      // The run's own login (the preflight's): no second login is needed to read its answer.
      const login = await ctx.dashboardLogin();
      expectStatus(login, 200, 'logging in with --email and --password');
      ensure(login.body?.success === true && login.body?.data?.email, 'login must answer { success: true, data: user }');
      ensure(!/"[^"]*(token|jwt|secret)[^"]*"\s*:/i.test(login.text), 'the login body has a token-like property');
      for (const cookie of login.setCookies) {
        const value = cookie.split(';')[0]!.split('=').slice(1).join('=');
        ensure(!value || !login.text.includes(value), 'the login body repeats a session cookie value');
      }
    },
  }),
  defineCheck({
    id: 'SESSION-002',
    rule: 'Session cookies are HttpOnly, Secure and SameSite.',
    source: 'PRODUCT.md Surfaces and auth; OWASP API8:2023',
    needs: ['dashboard'],
    async run(ctx) {
      const login = await ctx.dashboardLogin();
      expectStatus(login, 200, 'logging in with --email and --password');
      ensure(login.setCookies.length >= 1, 'login sets no cookie');
      for (const cookie of login.setCookies) {
        const name = cookie.split('=')[0];
        const attrs = cookieAttrs(cookie);
        ensure(attrs.includes('httponly'), `cookie ${name} lacks HttpOnly`);
        ensure(attrs.includes('secure'), `cookie ${name} lacks Secure`);
        ensure(attrs.some((a) => /^samesite=(strict|lax)$/.test(a)), `cookie ${name} lacks SameSite=Strict or Lax`);
      }
    },
  }),
  defineCheck({
    id: 'SESSION-003',
    rule: 'An unsafe dashboard request without X-Pacspace-CSRF: 1 gets 403 csrf_required and changes nothing.',
    source: 'seed 000 Making Authenticated Requests; PRODUCT.md; OWASP API8:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const before = await dash.get('/dashboard/api-keys?limit=100');
      const name = `conformance-csrf-${ctx.runTag}`;
      const res = await dash.post('/dashboard/api-keys', { json: { name } });
      if (res.status === 201) {
        ctx.secrets.add(res.body?.data?.secretKey, 'a key created without CSRF', res.id);
        ctx.track('api key', res.body?.data?.id, name, () => dash.delete(`/dashboard/api-keys/${res.body.data.id}`, { headers: CSRF }));
      }
      expectProblem(res, 403, 'csrf_required', 'POST /dashboard/api-keys without the CSRF header');
      const after = await dash.get('/dashboard/api-keys?limit=100');
      ensure(after.body?.data?.total === before.body?.data?.total, 'the refused request created a key anyway');
    },
  }),
  defineCheck({
    id: 'SESSION-004',
    rule: 'Logout revokes the session: its access cookie then gets 401.',
    source: 'PRODUCT.md Surfaces and auth',
    needs: ['dashboard'],
    async run(ctx) {
      // Its own session, knowingly: logging out must not end the run's shared one.
      const client = await ctx.loginClient();
      const cookie = [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      expectStatus(await client.get('/dashboard/auth/me'), 200, 'me while logged in');
      expectStatus(await client.post('/dashboard/auth/logout', { headers: CSRF }), 200, 'logout');
      expectProblem(await client.get('/dashboard/auth/me', { headers: { cookie } }), 401, 'unauthenticated', 'the old cookie after logout');
    },
  }),
  defineCheck({
    id: 'SESSION-005',
    rule: 'Refresh rotates the refresh cookie; presenting a rotated one again gets 401 and revokes the whole session family.',
    source: 'PRODUCT.md Surfaces and auth (reuse revokes the family)',
    needs: ['dashboard'],
    async run(ctx) {
      // Its own session, knowingly: detected reuse revokes the whole session family.
      const client = await ctx.loginClient();
      const original = new Map(client.jar);
      const refreshed = await client.post('/dashboard/auth/refresh', { headers: CSRF });
      expectStatus(refreshed, 200, 'refresh');
      for (const cookie of refreshed.setCookies) ctx.secrets.add(cookie.split(';')[0]!.split('=').slice(1).join('='), 'a session cookie', refreshed.id);
      ensure(client.jar.get('pacspace_refresh') !== original.get('pacspace_refresh'), 'refresh did not rotate the refresh cookie');
      const replay = [...original].map(([k, v]) => `${k}=${v}`).join('; ');
      expectProblem(await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: replay } }), 401, 'unauthenticated', 'reusing a rotated refresh cookie');
      expectProblem(await client.get('/dashboard/auth/me'), 401, 'unauthenticated', 'the newest access cookie after reuse was detected');
    },
  }),
  defineCheck({
    id: 'SESSION-006',
    rule: 'Login failure answers the same for an unknown email and a wrong password.',
    source: 'PRODUCT.md (no user enumeration); OWASP API2:2023',
    needs: ['dashboard'],
    async run(ctx) {
      const unknown = await ctx.loginAttempt(`nobody-${Date.now().toString(36)}@conformance.invalid`, 'wrong-password-123');
      const wrong = await ctx.loginAttempt(ctx.config.email!, `not-the-password-${Date.now().toString(36)}`);
      expectProblem(unknown, 401, 'invalid_credentials', 'unknown email');
      expectProblem(wrong, 401, 'invalid_credentials', 'wrong password');
      ensure(sameJson(withoutRequestId(unknown.body), withoutRequestId(wrong.body)), 'the two failures differ: the answer tells whether the email exists');
    },
  }),
  defineCheck({
    id: 'SESSION-007',
    rule: 'A password-reset request answers the same whether or not the email belongs to an account.',
    source: 'PRODUCT.md (no user enumeration); OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const known = await dash.post('/dashboard/auth/request-password-reset', { json: { email: ctx.config.email } });
      const unknown = await dash.post('/dashboard/auth/request-password-reset', { json: { email: `nobody-${Date.now().toString(36)}@conformance.invalid` } });
      ensure(known.status === unknown.status && known.status < 300, `reset requests answered ${known.status} (known) and ${unknown.status} (unknown)`);
      ensure(sameJson(withoutRequestId(known.body), withoutRequestId(unknown.body)), 'the reset answers differ: they tell whether the email exists');
    },
  }),
  defineCheck({
    id: 'SESSION-008',
    rule: 'A dashboard session cookie cannot call the Balance API, and a bearer token cannot call the Dashboard API.',
    source: 'seed 000 (two surfaces, two mechanisms); PRODUCT.md (Bearer superseded)',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const cookie = [...dash.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      expectProblem(await ctx.api.get('/api/v1/balance/derive/customer_001', { headers: { cookie } }), 401, 'unauthenticated', 'a session cookie on the Balance API');
      const access = dash.jar.get('pacspace_access') ?? 'x';
      expectProblem(await dash.get('/dashboard/api-keys', { noCookies: true, headers: { Authorization: `Bearer ${access}` } }), 401, 'unauthenticated', 'Authorization: Bearer on the Dashboard API');
    },
  }),
];
