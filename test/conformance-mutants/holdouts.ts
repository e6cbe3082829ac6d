// Holdout mutants: twenty servers written apart from the registry (mutants/), before its
// mutants and the new checks were read, to measure the suite on faults it was not built
// against. Not part of `npm run conformance:mutants`; run them against the whole suite:
//   npx tsx test/conformance-mutants/run.ts --full --extra test/conformance-mutants/holdouts.ts --mutants h-
import { defineMutants, header, isOperation, json, mapJson, onRequest, onResponse, problem, setCookies, withHeaders } from './mutant.ts';

const neg = (s: string) => (s.startsWith('-') ? s.slice(1) : s);
export const mutants = defineMutants([
  // 1. derive loses the sign of a negative balance between -1 and 0 ("-0.50" → "0.50")
  onResponse('h-derive-small-negative', [], 'derive drops the sign of balances in (-1, 0)', ['deriveBalance'], (res) =>
    mapJson(res, (b) => { if (b?.data && /^-0\./.test(b.data.computedBalance)) b.data.computedBalance = neg(b.data.computedBalance); })),
  // 2. list api keys: page 2 repeats the last item of page 1 (off by one)
  {
    id: 'h-keys-page-overlap', rules: [], description: 'page N>1 starts one item early',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'listApiKeys')) return next(req);
      const u = new URL(req.url, 'http://x');
      const page = Number(u.searchParams.get('page') ?? '1');
      const res = await next(req);
      if (page <= 1) return res;
      const prevUrl = new URL(req.url, 'http://x'); prevUrl.searchParams.set('page', String(page - 1));
      const prev = json(await ctx.forward({ ...req, url: prevUrl.pathname + prevUrl.search }));
      return mapJson(res, (b) => { const last = prev?.data?.items?.at(-1); if (last && b?.data?.items) { b.data.items = [last, ...b.data.items].slice(0, b.data.limit); } });
    },
  },
  // 3. total counts one more than there are (deleted keys included)
  onResponse('h-keys-total-plus-one', [], 'total is one too many', ['listApiKeys'], (res) => mapJson(res, (b) => { if (b?.data && typeof b.data.total === 'number') b.data.total += 1; })),
  // 4. idempotent replay records again but answers the first response
  {
    id: 'h-idem-replay-records', rules: [], description: 'a replay answers the stored response but records a new delta too',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'recordDelta') || !header(req, 'idempotency-key')) return next(req);
      const res = await next(req);
      if (res.status < 300 && header(res, 'idempotent-replayed')) {
        const body = JSON.parse(req.body.toString());
        delete body.referenceId;
        await ctx.forward({ ...req, headers: { ...req.headers, 'idempotency-key': `${header(req, 'idempotency-key')}-again` }, body: Buffer.from(JSON.stringify(body)) });
      }
      return res;
    },
  },
  // 5. refresh cookie scoped to Path=/ instead of /dashboard/auth
  onResponse('h-refresh-path-root', [], 'refresh cookie Path=/', () => true, (res) => {
    const c = setCookies(res); if (!c.length) return res;
    return withHeaders(res, { 'set-cookie': c.map((l) => l.startsWith('pacspace_refresh=') ? l.replace(/Path=\/dashboard\/auth/i, 'Path=/') : l) });
  }),
  // 6. CSRF not enforced on DELETE only
  onRequest('h-csrf-delete', [], 'DELETE without CSRF header accepted', (req) => req.method === 'DELETE' && req.url.startsWith('/dashboard/'), (req) => withHeaders(req, { 'x-pacspace-csrf': '1' })),
  // 7. 405 without Allow on dashboard paths only
  onResponse('h-405-dashboard-no-allow', [], '405 on dashboard without Allow', (req) => req.url.startsWith('/dashboard/'), (res) => res.status === 405 ? withHeaders(res, { allow: undefined }) : res),
  // 8. X-Request-Id header differs from body requestId on 404s
  onResponse('h-404-request-id-mismatch', [], '404 header request id differs from body', () => true, (res) => res.status === 404 ? withHeaders(res, { 'x-request-id': 'req_ZZZZZZZZZZZZ' }) : res),
  // 9. problem body status disagrees with HTTP status on 409
  onResponse('h-409-body-status', [], '409 problem says status 400', () => true, (res) => res.status === 409 ? mapJson(res, (p) => { p.status = 400; }) : res),
  // 10. verify says valid for any root (unknown roots too)
  onResponse('h-verify-unknown-valid', [], 'verify of an unknown root answers as found', ['verifyProofRoot'], async (res, req, ctx) => {
    if (res.status !== 404) return res;
    return problem(200, 'x', 'x');
  }),
  // 11. toggle response includes fullKey (remembered)
  {
    id: 'h-toggle-fullkey', rules: [], description: 'toggle reveals fullKey',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createApiKey', 'regenerateApiKey')) { const d = json(res)?.data; if (d?.id) ctx.memory.set(d.id, d.fullKey); }
      if (isOperation(req, 'toggleApiKey')) return mapJson(res, (b) => { if (b?.data?.id && ctx.memory.has(b.data.id)) b.data.fullKey = ctx.memory.get(b.data.id); });
      return res;
    },
  },
  // 12. disabled key still accepted for writes (recordDelta) only
  {
    id: 'h-disabled-key-writes', rules: [], description: 'a disabled key can still record deltas',
    async exchange(req, next, ctx) {
      const key = header(req, 'x-api-key');
      if (isOperation(req, 'createApiKey')) {
        const res = await next(req);
        const d = json(res)?.data; if (d?.id) ctx.memory.set(`pub:${d.id}`, d.publicKey);
        return res;
      }
      if (isOperation(req, 'toggleApiKey')) {
        const res = await next(req);
        const d = json(res)?.data; const pub = d?.publicKey ?? ctx.memory.get(`pub:${d?.id}`); if (pub) ctx.memory.set(`active:${pub}`, d.active);
        return res;
      }
      if (isOperation(req, 'recordDelta') && key) {
        const pub = key.split('.')[0]!;
        if (ctx.memory.get(`active:${pub}`) === false && ctx.memory.get('good')) return next(withHeaders(req, { 'x-api-key': ctx.memory.get('good') }));
        const res = await next(req);
        if (res.status === 201) ctx.memory.set('good', key);
        return res;
      }
      return next(req);
    },
  },
  // 13. webhook delta.recorded payload's balanceAfter off by sign for negatives
  {
    id: 'h-hook-balance-sign', rules: [], description: 'delta.recorded payload shows |balanceAfter|',
    async delivery(d, send) {
      const b = JSON.parse(d.body.toString());
      if (b?.type === 'delta.recorded' && typeof b.data?.balanceAfter === 'string' && b.data.balanceAfter.startsWith('-')) { b.data.balanceAfter = neg(b.data.balanceAfter); }
      return send({ ...d, body: Buffer.from(JSON.stringify(b)) });
    },
  },
  // 14. logout revokes the refresh token but the access cookie keeps working
  {
    id: 'h-logout-access-alive', rules: [], description: 'logout leaves the access cookie valid',
    async exchange(req, next, ctx) {
      const cookieOf = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name}=`))?.split(';')[0]!.slice(name.length + 1);
      if (isOperation(req, 'login')) { ctx.memory.set('login', req); return next(req); }
      if (isOperation(req, 'logout')) {
        const old = /pacspace_access=([^;]+)/.exec(header(req, 'cookie') ?? '')?.[1];
        const res = await next(req);
        const login = ctx.memory.get('login');
        if (old && login) {
          const again = await ctx.forward(login);
          const fresh = cookieOf(setCookies(again), 'pacspace_access');
          if (fresh) ctx.memory.set(`map:${old}`, fresh);
        }
        return res;
      }
      const c = header(req, 'cookie');
      const old = c && /pacspace_access=([^;]+)/.exec(c)?.[1];
      if (old && ctx.memory.get(`map:${old}`)) return next(withHeaders(req, { cookie: c!.replace(old, ctx.memory.get(`map:${old}`)) }));
      return next(req);
    },
  },
  // 15. compare: matches true when views differ only beyond 2 decimals
  onResponse('h-compare-rounds', [], 'compare rounds to cents before matching', ['compareBalances'], (res, req) => mapJson(res, (b) => {
    const body = JSON.parse(req.body.toString());
    const y = Number(body.yourBalance), t = Number(body.theirBalance);
    if (b?.data && y !== t && Math.abs(y - t) < 0.005) { b.data.matches = true; }
  })),
  // 16. receipt by id shows status recorded forever (never confirmed) — only on GET by id
  onResponse('h-receipt-never-confirmed', [], 'GET receipt keeps status recorded', ['getReceipt'], (res) => mapJson(res, (b) => { if (b?.data?.status === 'confirmed') { b.data.status = 'recorded'; b.data.confirmedAt = null; } })),
  // 17. checkpoint listing: receipts listed without their inclusion proof's leafIndex order (sorted desc)
  onResponse('h-checkpoint-receipts-desc', [], 'checkpoint receipts listed newest first', ['listCheckpointReceipts'], (res) => mapJson(res, (b) => { if (Array.isArray(b?.data?.items)) b.data.items.reverse(); })),
  // 18. rate limit headers: RateLimit-Remaining increases (bogus) — skip; instead Retry-After as HTTP date far in past? legal. Use: 429 on dashboard lacks Retry-After
  onResponse('h-429-dashboard-no-retry-after', [], 'dashboard 429 without Retry-After', (req) => req.url.startsWith('/dashboard/'), (res) => res.status === 429 ? withHeaders(res, { 'retry-after': undefined }) : res),
  // 19. webhook list reveals the signing secret
  {
    id: 'h-hook-list-secret', rules: [], description: 'webhook endpoint list includes secret',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createWebhookEndpoint')) { const d = json(res)?.data; if (d?.id) ctx.memory.set(d.id, d.secret); }
      if (isOperation(req, 'listWebhookEndpoints')) return mapJson(res, (b) => { for (const w of b?.data?.items ?? []) if (ctx.memory.get(w.id)) w.signingSecret = ctx.memory.get(w.id); });
      return res;
    },
  },
  // 20. derive counts deltaCount off by one after a checkpoint
  onResponse('h-derive-count-after-checkpoint', [], 'deltaCount excludes the first delta once checkpointed', ['deriveBalance'], (res) => mapJson(res, (b) => { if (b?.data?.lastCheckpoint && b.data.deltaCount > 0) b.data.deltaCount -= 1; })),
]);
