// The problem codes of ProblemCode.yaml: each with its status everywhere it appears, and the
// codes a client can provoke without harm, provoked at their boundary.
import { defineCheck } from '../../check.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { derived, NOBODY, record, sendAs, totalOf, unique } from './support.ts';

/** ProblemCode's table: the status each code is answered with. */
export const PROBLEM_STATUS: Record<string, number> = {
  invalid_json: 400,
  invalid_token: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  plan_limit_exceeded: 402,
  insufficient_permission: 403,
  csrf_required: 403,
  account_not_approved: 403,
  email_not_verified: 403,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_key_reused: 409,
  idempotency_request_in_progress: 409,
  duplicate_reference: 409,
  nothing_to_checkpoint: 409,
  balance_out_of_range: 409,
  environment_not_active: 409,
  environment_already_provisioned: 409,
  account_exists: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  password_hashing_busy: 429,
  storage_unavailable: 503,
};

const TYPE_URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i;

export const codeChecks = [
  defineCheck({
    id: 'CODE-001',
    rule: 'Every problem of the run has the status its `code` is defined with, a `type` URI and a `title` that are the same for every occurrence of the code, and distinct codes have distinct types.',
    source: 'openapi #/components/schemas/ProblemCode; openapi #/components/schemas/Problem',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      // Provoke each cheap code twice, on both surfaces where it exists, so the comparison is never empty.
      const dash = await ctx.dashboard();
      await ctx.api.get('/api/v1/no-such-route', { headers: ctx.keyHeaders() });
      await dash.get(`/dashboard/api-keys/${NOBODY.keyId}`);
      await ctx.api.get(`/api/v1/balance/derive/${NOBODY.customerId}`, { headers: { 'X-Api-Key': 'not-a-key' } });
      await dash.get('/dashboard/auth/me', { noCookies: true });
      await ctx.api.send('PUT', '/api/v1/balance/delta', { headers: ctx.keyHeaders() });
      await sendAs(ctx, 'DELETE', '/dashboard/billing');
      await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: {} });
      await dash.post('/dashboard/api-keys', { headers: CSRF, json: {} });
      await ctx.api.post('/api/v1/balance/compare', { headers: { ...ctx.keyHeaders(), 'content-type': 'application/json' }, raw: '{' });
      await dash.post('/dashboard/auth/login', { headers: { 'content-type': 'application/json' }, raw: '{' });
      await dash.get(`/dashboard/auth/verify?token=${'Q'.repeat(40)}`);
      await dash.post('/dashboard/auth/reset-password', { json: { token: 'Q'.repeat(40), password: 'conformance-password-1' } });
      const problems = ctx.recorder.exchanges.filter((e) => e.status >= 400 && e.body && typeof e.body === 'object' && typeof e.body.code === 'string');
      const failures: string[] = [];
      const typeOf = new Map<string, string>();
      const titleOf = new Map<string, string>();
      const codeOfType = new Map<string, string>();
      for (const e of problems) {
        const { code, type, title } = e.body;
        const where = `#${e.id} ${e.method} ${e.path} → ${e.status} ${code}`;
        if (code in PROBLEM_STATUS && PROBLEM_STATUS[code] !== e.status) failures.push(`${where}: ${code} is a ${PROBLEM_STATUS[code]}`);
        if (e.body.status !== e.status) failures.push(`${where}: body status ${e.body.status}`);
        if (typeof type !== 'string' || !TYPE_URI.test(type)) failures.push(`${where}: type ${JSON.stringify(type)} is not an absolute URI`);
        if (typeOf.has(code) && typeOf.get(code) !== type) failures.push(`${where}: type ${type} differs from an earlier ${typeOf.get(code)}`);
        if (titleOf.has(code) && titleOf.get(code) !== title) failures.push(`${where}: title "${title}" differs from an earlier "${titleOf.get(code)}"`);
        if (typeof type === 'string' && codeOfType.has(type) && codeOfType.get(type) !== code) failures.push(`${where}: type ${type} also names ${codeOfType.get(type)}`);
        typeOf.set(code, type);
        titleOf.set(code, title);
        if (typeof type === 'string') codeOfType.set(type, code);
      }
      ensure(failures.length === 0, `inconsistent problems: ${failures.slice(0, 8).join('; ')}`);
    },
  }),
  defineCheck({
    id: 'CODE-002',
    rule: 'A delta that would take a balance past ±10^15 gets 409 balance_out_of_range and records nothing; a balance of exactly ±10^15 is reached.',
    source: 'openapi #/components/schemas/ProblemCode (balance_out_of_range)',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      for (const sign of ['', '-']) {
        const customer = unique();
        await record(ctx, { customerId: customer, delta: `${sign}999999999999999`, reason: 'conformance-range' });
        await record(ctx, { customerId: customer, delta: `${sign}1`, reason: 'conformance-range' });
        const past = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: `${sign}0.01`, reason: 'conformance-range' } });
        expectProblem(past, 409, 'balance_out_of_range', `a delta of ${sign}0.01 on a balance of ${sign}10^15`);
        const after = await derived(ctx, customer);
        ensure(after.deltaCount === 2, `the refused delta was recorded (deltaCount ${after.deltaCount})`);
        ensure(Number(after.computedBalance) === Number(`${sign}1000000000000000`), `the balance must stay ${sign}10^15, got ${after.computedBalance}`);
      }
    },
  }),
  defineCheck({
    id: 'CODE-003',
    rule: 'Provisioning an environment that is already active gets 409 environment_already_provisioned, and a `live` key before mainnet is active gets 409 environment_not_active; neither changes anything.',
    source: 'openapi #/components/schemas/ProblemCode; openapi ApiKeyCreateRequest.environment; seed 004 "Provision an Environment"',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const envs = await dash.get('/dashboard/environments');
      expectStatus(envs, 200, 'listing the environments');
      const list: any[] = envs.body?.data ?? [];
      const active = list.find((e) => e.status === 'active');
      ensure(active, 'no environment is active: the account cannot be used');
      const again = await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: active.environment } });
      expectProblem(again, 409, 'environment_already_provisioned', `provisioning the active ${active.environment} again`);
      const mainnet = list.find((e) => e.environment === 'mainnet');
      if (mainnet && mainnet.status === 'not_provisioned') {
        const keysBefore = await totalOf(ctx, '/dashboard/api-keys');
        const live = await dash.post('/dashboard/api-keys', { headers: CSRF, json: { name: `conformance-live-${ctx.runTag}`, environment: 'live' } });
        if (live.status === 201 && typeof live.body?.data?.id === 'string') ctx.track('api key', live.body.data.id, `conformance-live-${ctx.runTag}`, () => dash.delete(`/dashboard/api-keys/${live.body.data.id}`, { headers: CSRF }));
        expectProblem(live, 409, 'environment_not_active', 'a live key before mainnet is provisioned');
        ensure((await totalOf(ctx, '/dashboard/api-keys')) === keysBefore, 'the refused live key was created');
      }
      const after = await dash.get('/dashboard/environments');
      const still = (after.body?.data ?? []).find((e: any) => e.environment === active.environment);
      ensure(still?.status === 'active', `the refused provisioning changed ${active.environment} to ${still?.status}`);
    },
  }),
  defineCheck({
    id: 'CODE-004',
    rule: 'Registering the address of an existing account (in another case, without an access token) gets 409 account_exists and changes nothing: the account and its session are as before.',
    source: 'openapi #/components/schemas/ProblemCode (account_exists); openapi op register; openapi #/components/schemas/EmailAddress',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const before = await dash.get('/dashboard/auth/me');
      expectStatus(before, 200, 'reading the current user');
      const email = ctx.config.email!;
      const swapped = email.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
      const res = await dash.post('/dashboard/auth/register', { noCookies: true, json: { email: swapped, password: `conformance-${ctx.runTag}`, name: 'Conformance' } });
      expectProblem(res, 409, 'account_exists', 'registering the address of an existing account in another case');
      const after = await dash.get('/dashboard/auth/me');
      expectStatus(after, 200, 'reading the current user after the refused registration');
      ensure(after.body?.data?.id === before.body?.data?.id && after.body?.data?.email === before.body?.data?.email, 'the refused registration changed the account');
    },
  }),
  defineCheck({
    id: 'CODE-005',
    rule: 'An account registered without an access token is pending approval: it may log in, but asking for an API key gets 403 account_not_approved and creates none.',
    source: 'openapi #/components/schemas/ProblemCode (account_not_approved); openapi op register; openapi #/components/schemas/CurrentUser',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      // A new account on the target (no documented endpoint deletes one), at an address that cannot exist.
      const email = `conformance-pending-${ctx.runTag}@conformance.invalid`;
      const password = `Pending-${ctx.runTag}-pw`;
      ctx.secrets.add(password, 'the password of the pending account');
      const dash = await ctx.dashboard();
      const registered = await dash.post('/dashboard/auth/register', { noCookies: true, json: { email, password, name: 'Conformance pending' } });
      expectStatus(registered, 201, 'registering without an access token');
      const pending = await ctx.loginClient(email, password);
      try {
        const me = await pending.get('/dashboard/auth/me');
        expectStatus(me, 200, 'reading the pending account');
        ensure(me.body?.data?.approvalStatus !== 'approved', `an account registered without an access token is already ${me.body?.data?.approvalStatus}`);
        const key = await pending.post('/dashboard/api-keys', { headers: CSRF, json: { name: `conformance-${ctx.runTag}` } });
        if (key.status === 201 && typeof key.body?.data?.id === 'string') ctx.track('api key', key.body.data.id, `conformance-${ctx.runTag}`, () => pending.delete(`/dashboard/api-keys/${key.body.data.id}`, { headers: CSRF }));
        expectProblem(key, 403, 'account_not_approved', 'an API key for an account pending approval');
        const list = await pending.get('/dashboard/api-keys');
        expectStatus(list, 200, 'listing the pending account\'s keys');
        ensure(list.body?.data?.total === 0, `the refused key was created (total ${list.body?.data?.total})`);
      } finally {
        await pending.post('/dashboard/auth/logout', { headers: CSRF }).catch(() => undefined);
      }
    },
  }),
  defineCheck({
    id: 'CODE-006',
    rule: 'Requests sent at once with one Idempotency-Key and body record one delta: each other answer is its replay (Idempotent-Replayed: true, same receipt) or 409 idempotency_request_in_progress.',
    source: 'openapi #/components/schemas/ProblemCode (idempotency_request_in_progress); openapi info "Idempotency"',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customer = unique();
      const key = unique('idem-race');
      const body = { customerId: customer, delta: '1.00', reason: 'conformance-race' };
      const answers = await Promise.all(Array.from({ length: 4 }, () => ctx.api.post('/api/v1/balance/delta', { headers: { ...ctx.keyHeaders(), 'Idempotency-Key': key }, json: body })));
      const originals = answers.filter((a) => a.status === 201 && a.headers['idempotent-replayed'] === undefined);
      ensure(originals.length === 1, `one of the requests must be answered as the original, got ${originals.length} (${answers.map((a) => `${a.status} ${a.body?.code ?? a.headers['idempotent-replayed'] ?? ''}`).join(', ')})`);
      const receipt = originals[0]!.body?.data?.receiptId;
      for (const a of answers) {
        if (a === originals[0]) continue;
        if (a.status === 409) expectProblem(a, 409, 'idempotency_request_in_progress', 'a request while the first with its Idempotency-Key is in progress');
        else ensure(a.status === 201 && a.headers['idempotent-replayed'] === 'true' && a.body?.data?.receiptId === receipt, `a concurrent request with the same Idempotency-Key got ${a.status} ${a.body?.code ?? ''} instead of the replay or 409 idempotency_request_in_progress`);
      }
      ensure((await derived(ctx, customer)).deltaCount === 1, 'requests with one Idempotency-Key recorded more than one delta');
    },
  }),
];
