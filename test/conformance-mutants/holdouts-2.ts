// Second holdout set: thirty-eight servers written apart from the registry (mutants/) and from the
// first holdouts, each breaking one rule of the contract or the product brief in one place only
// (one surface, one page, one state, one member of a family). Not part of `npm run
// conformance:mutants`; run them against the whole suite:
//   npx tsx test/conformance-mutants/run.ts --full --workers 3 --extra test/conformance-mutants/holdouts-2.ts --mutants h2-
import { createHmac } from 'node:crypto';
import { defineMutants, header, isOperation, json, mapJson, onRequest, onResponse, problem, queryOf, setCookies, withHeaders, type Delivery, type Mutant, type MutantContext, type ProxiedRequest, type ProxiedResponse } from './mutant.ts';

const neg = (s: string) => (s.startsWith('-') ? s.slice(1) : s);

/** Remembers every signing secret the server reveals, so a changed delivery can be signed again as the server would. */
function remember(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  if (!isOperation(req, 'createWebhookEndpoint', 'rotateWebhookSecret')) return;
  const secret = json(res)?.data?.secret;
  if (typeof secret === 'string') ctx.memory.set('secrets', [...(ctx.memory.get('secrets') ?? []), secret]);
}
const hmac = (secret: string, msg: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(msg, 'utf8').digest('hex');
function resign(d: Delivery, ctx: MutantContext, body: any): Delivery {
  const ts = String(header(d, 'x-pacspace-timestamp') ?? '');
  const old = d.body.toString('utf8');
  const secrets: string[] = ctx.memory.get('secrets') ?? [];
  const sigs = String(header(d, 'x-pacspace-signature') ?? '').split(',').map((s) => s.trim().replace(/^v1=/, ''));
  const used = sigs.map((sig) => secrets.find((s) => hmac(s, `${ts}.${old}`) === sig)).filter((s): s is string => !!s);
  const raw = JSON.stringify(body);
  return { ...withHeaders(d, { 'x-pacspace-signature': used.map((s) => `v1=${hmac(s, `${ts}.${raw}`)}`).join(',') }), body: Buffer.from(raw) };
}
/** A mutant that changes some deliveries' bodies and signs them again. */
function onEvent(id: string, description: string, applies: (b: any) => boolean, change: (b: any) => void): Mutant {
  return {
    id, rules: [], description,
    async exchange(req, next, ctx) { const res = await next(req); remember(req, res, ctx); return res; },
    async delivery(d, send, ctx) {
      const b = json(d);
      if (!b || !applies(b)) return send(d);
      change(b);
      return send(resign(d, ctx, b));
    },
  };
}
/** A problem as the server writes them: a real one of this code seen before, else one shaped like it; requestId in body and header. */
function imitated(ctx: MutantContext, status: number, code: string, detail: string): ProxiedResponse {
  const requestId = `req_${Array.from({ length: 16 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('')}`;
  const seen = ctx.memory.get(`problem:${code}`);
  const body = seen ? { ...seen, detail, requestId } : { ...json(problem(status, code, detail)), requestId };
  return { status, headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId }, body: Buffer.from(JSON.stringify(body)) };
}
const pageOf = (req: ProxiedRequest) => Number(queryOf(req).get('page') ?? '1');

export const mutants = defineMutants([
  // 1. A checkpoint's receipts: from page 3 on, the server answers page 2 again (an offset bug past the second page).
  {
    id: 'h2-checkpoint-receipts-page3-repeats', rules: [], description: 'listCheckpointReceipts pages 3+ repeat page 2',
    async exchange(req, next, ctx) {
      if (!isOperation(req, 'listCheckpointReceipts') || pageOf(req) < 3) return next(req);
      const u = new URL(req.url, 'http://x'); u.searchParams.set('page', '2');
      const res = await next(req);
      const prev = json(await ctx.forward({ ...req, url: u.pathname + u.search }));
      return mapJson(res, (b) => { if (b?.data && prev?.data?.items?.length) b.data.items = prev.data.items; });
    },
  },
  // 2. A negative delta given as a JSON number loses its sign (strings are fine).
  onRequest('h2-negative-number-delta', [], 'a negative JSON-number delta is recorded as positive', ['recordDelta'], (req) => {
    const raw = req.body.toString('utf8');
    const changed = raw.replace(/("delta"\s*:\s*)-(?=\d)/, '$1');
    return changed === raw ? req : { ...req, body: Buffer.from(changed) };
  }),
  // 3. The production listener's request ids are too short for the pattern (req_ + 6).
  {
    id: 'h2-production-request-id-short', rules: [], description: 'X-Request-Id on the production listener has 6 characters after req_',
    async exchange(req, next) {
      const res = await next(req);
      if (req.listener !== 'production') return res;
      const id = `req_${Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, 'a').padEnd(6, 'a')}`;
      const out = withHeaders(res, { 'x-request-id': id });
      return res.status >= 400 ? mapJson(out, (p) => { if (p && typeof p === 'object' && 'requestId' in p) p.requestId = id; }) : out;
    },
  },
  // 4. A regenerated key loses balance:write: its new secret records nothing (403) although it still lists both permissions.
  {
    id: 'h2-regenerated-loses-write', rules: [], description: 'after regenerate, recordDelta with the key is 403 insufficient_permission',
    async exchange(req, next, ctx) {
      if (isOperation(req, 'regenerateApiKey')) {
        const res = await next(req);
        const pub = json(res)?.data?.publicKey; if (pub) ctx.memory.set(`regen:${pub}`, true);
        return res;
      }
      if (isOperation(req, 'recordDelta', 'createCheckpoint')) {
        const pub = (header(req, 'x-api-key') ?? '').split('.')[0]!;
        if (ctx.memory.get(`regen:${pub}`)) return imitated(ctx, 403, 'insufficient_permission', 'This API key does not have the balance:write permission.');
      }
      const res = await next(req);
      const p = json(res);
      if (res.status >= 400 && p?.code) ctx.memory.set(`problem:${p.code}`, p);
      return res;
    },
  },
  // 5. delta.recorded payload drops the delta's metadata (the API's receipt keeps it).
  onEvent('h2-hook-recorded-metadata-dropped', 'delta.recorded data.metadata is always {}', (b) => b.type === 'delta.recorded' && b.data?.metadata && Object.keys(b.data.metadata).length > 0, (b) => { b.data.metadata = {}; }),
  // 6. The second and later checkpoints of a customer are answered (on create only) with openingBalance "0.00".
  onResponse('h2-later-checkpoint-opening-zero', [], 'createCheckpoint answers openingBalance 0.00 for a chained checkpoint', ['createCheckpoint'], (res) =>
    mapJson(res, (b) => { if (b?.data?.previousProofRoot && b.data.openingBalance !== '0.00') b.data.openingBalance = '0.00'; })),
  // 7. getReceipt's errors carry no X-Request-Id (every other response does).
  onResponse('h2-get-receipt-4xx-no-request-id', [], 'getReceipt 4xx without X-Request-Id', ['getReceipt'], (res) => (res.status >= 400 ? withHeaders(res, { 'x-request-id': undefined }) : res)),
  // 8. Refresh sets the access cookie SameSite=Lax (login sets Strict).
  onResponse('h2-refresh-access-lax', [], 'refresh sets pacspace_access SameSite=Lax', ['refreshSession'], (res) =>
    withHeaders(res, { 'set-cookie': setCookies(res).map((l) => (l.startsWith('pacspace_access=') ? l.replace(/SameSite=Strict/i, 'SameSite=Lax') : l)) })),
  // 9. Logout clears the refresh cookie under Path=/dashboard, so a browser keeps the real one (Path=/dashboard/auth).
  onResponse('h2-logout-refresh-clear-wrong-path', [], 'logout clears pacspace_refresh with Path=/dashboard', ['logout'], (res) =>
    withHeaders(res, { 'set-cookie': setCookies(res).map((l) => (l.startsWith('pacspace_refresh=') ? l.replace(/Path=\/dashboard\/auth/i, 'Path=/dashboard') : l)) })),
  // 10. Re-enabling a key answers the message of disabling.
  onResponse('h2-enable-message-wrong', [], 'toggle to active says "API key has been disabled."', ['toggleApiKey'], (res) =>
    mapJson(res, (b) => { if (b?.data?.active === true) b.data.message = 'API key has been disabled.'; })),
  // 11. The endpoint list leaves out live endpoints (and counts only test ones).
  onResponse('h2-endpoint-list-omits-live', [], 'listWebhookEndpoints omits live endpoints', ['listWebhookEndpoints'], (res) =>
    mapJson(res, (b) => {
      if (!Array.isArray(b?.data?.items)) return;
      const live = b.data.items.filter((w: any) => w.environment === 'live').length;
      b.data.items = b.data.items.filter((w: any) => w.environment !== 'live');
      b.data.total -= live;
    })),
  // 12. Verify answers 404 for the root of a chained (second or later) checkpoint.
  {
    id: 'h2-verify-later-root-404', rules: [], description: 'verifyProofRoot 404 for a checkpoint with a previousProofRoot',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint')) { const d = json(res)?.data; if (d?.previousProofRoot) ctx.memory.set(`later:${d.proofRoot}`, true); }
      if (isOperation(req, 'verifyProofRoot') && res.status === 200) {
        const root = req.url.split('?')[0]!.split('/').pop()!;
        if (ctx.memory.get(`later:${root}`)) return ctx.forward({ ...req, url: req.url.replace(root, 'f'.repeat(64)) });
      }
      return res;
    },
  },
  // 13. GET receipt: the last leaf's inclusion proof has a corrupted first sibling (only there, only the last leaf).
  onResponse('h2-last-leaf-proof-corrupt', [], 'getReceipt: the last leaf of a checkpoint gets a wrong audit path', ['getReceipt'], (res) =>
    mapJson(res, (b) => {
      const p = b?.data?.inclusionProof;
      if (p && p.treeSize > 1 && p.leafIndex === p.treeSize - 1 && p.auditPath?.length) {
        const h: string = p.auditPath[0];
        p.auditPath[0] = h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
      }
    })),
  // 14. compare: a negative theirDiscrepancy loses its sign.
  onResponse('h2-their-discrepancy-sign', [], 'theirDiscrepancy written without its minus sign', ['compareBalances'], (res) =>
    mapJson(res, (b) => { if (typeof b?.data?.theirDiscrepancy === 'string') b.data.theirDiscrepancy = neg(b.data.theirDiscrepancy); })),
  // 15. The second replay of an idempotent request has no Idempotent-Replayed header (the first one does).
  {
    id: 'h2-second-replay-no-header', rules: [], description: 'Idempotent-Replayed only on the first replay',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const key = header(req, 'idempotency-key');
      if (!isOperation(req, 'recordDelta') || !key || !header(res, 'idempotent-replayed')) return res;
      const k = `replays:${header(req, 'x-api-key')}:${key}`;
      const n = (ctx.memory.get(k) ?? 0) + 1; ctx.memory.set(k, n);
      return n >= 2 ? withHeaders(res, { 'idempotent-replayed': undefined }) : res;
    },
  },
  // 16. API keys: page 2 and later are sorted oldest first (page 1 is newest first).
  onResponse('h2-keys-later-pages-oldest-first', [], 'listApiKeys pages 2+ oldest first', (req) => isOperation(req, 'listApiKeys') && pageOf(req) >= 2, (res) =>
    mapJson(res, (b) => { if (Array.isArray(b?.data?.items)) b.data.items.reverse(); })),
  // 17. lastUsedAt is set only by derive; a key used only to record deltas or compare stays null.
  {
    id: 'h2-last-used-derive-only', rules: [], description: 'lastUsedAt ignores every Balance API call but derive',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'deriveBalance') && res.status === 200) ctx.memory.set(`derived:${(header(req, 'x-api-key') ?? '').split('.')[0]}`, true);
      if (isOperation(req, 'listApiKeys', 'getApiKey', 'toggleApiKey', 'regenerateApiKey')) {
        return mapJson(res, (b) => {
          const items = Array.isArray(b?.data?.items) ? b.data.items : b?.data ? [b.data] : [];
          for (const k of items) if (k?.publicKey && k.lastUsedAt && !ctx.memory.get(`derived:${k.publicKey}`)) k.lastUsedAt = null;
        });
      }
      return res;
    },
  },
  // 18. api_key.enabled events say active: false.
  onEvent('h2-enabled-event-inactive', 'api_key.enabled data.active is false', (b) => b.type === 'api_key.enabled' && b.data?.active === true, (b) => { b.data.active = false; }),
  // 19. The login lockout's 429 has RateLimit-Remaining -1 (other 429s are fine).
  onResponse('h2-login-429-remaining-negative', [], 'login 429 RateLimit-Remaining: -1', ['login'], (res) => (res.status === 429 ? withHeaders(res, { 'ratelimit-remaining': '-1' }) : res)),
  // 20. PATCH accepts any CSRF header value (POST/DELETE need exactly "1").
  onRequest('h2-csrf-patch-any-value', [], 'PATCH with X-Pacspace-CSRF: true accepted', (req) => req.method === 'PATCH' && req.url.startsWith('/dashboard/') && header(req, 'x-pacspace-csrf') !== undefined, (req) => withHeaders(req, { 'x-pacspace-csrf': '1' })),
  // 21. A checkpoint's receipt listing writes balanceAfter with eight decimals ("12.50000000").
  onResponse('h2-checkpoint-list-amount-padded', [], 'listCheckpointReceipts pads balanceAfter to 8 decimals', ['listCheckpointReceipts'], (res) =>
    mapJson(res, (b) => { for (const r of b?.data?.items ?? []) if (typeof r.balanceAfter === 'string' && /^-?\d+\.\d{2}$/.test(r.balanceAfter)) r.balanceAfter += '000000'; })),
  // 22. derive: lastDeltaAt stays at the first delta once a customer has three or more.
  onResponse('h2-derive-last-delta-at-stuck', [], 'derive lastDeltaAt = firstDeltaAt from the third delta on', ['deriveBalance'], (res) =>
    mapJson(res, (b) => { if (b?.data?.deltaCount >= 3 && b.data.firstDeltaAt) b.data.lastDeltaAt = b.data.firstDeltaAt; })),
  // 23. checkpoint.created for a chained checkpoint says previousProofRoot null (the API says the right root).
  onEvent('h2-checkpoint-event-unchained', 'checkpoint.created data.previousProofRoot is always null', (b) => b.type === 'checkpoint.created' && b.data?.previousProofRoot, (b) => { b.data.previousProofRoot = null; }),
  // 24. compare ignores a startingBalance given as a JSON number (strings are read).
  onRequest('h2-starting-balance-number-ignored', [], 'a numeric startingBalance is treated as 0', ['compareBalances'], (req) => {
    const b = json(req);
    if (!b || typeof b.startingBalance !== 'number') return req;
    delete b.startingBalance;
    return { ...req, body: Buffer.from(JSON.stringify(b)) };
  }),
  // 25. derive of a customerId containing ':' reads an empty ledger (the id is split on the colon).
  {
    id: 'h2-derive-colon-customer', rules: [], description: 'derive for customer ids with ":" answers an empty ledger',
    async exchange(req, next) {
      if (!isOperation(req, 'deriveBalance')) return next(req);
      const path = req.url.split('?')[0]!;
      let id: string;
      try { id = decodeURIComponent(path.split('/').pop()!); } catch { return next(req); }
      if (!id.includes(':')) return next(req);
      const res = await next({ ...req, url: path.replace(/[^/]+$/, encodeURIComponent(id.split(':')[0]! + '-nobody-' + id.length)) });
      return mapJson(res, (b) => { if (b?.data) b.data.customerId = id; });
    },
  },
  // 26. A metadata name with a "." is refused (the pattern allows it): the server answers as for a name too long.
  onRequest('h2-metadata-dot-name-refused', [], 'metadata names containing "." are 422', ['recordDelta'], (req) => {
    const b = json(req);
    const m = b?.metadata;
    if (!m || typeof m !== 'object' || !Object.keys(m).some((k) => k.includes('.'))) return req;
    b.metadata = Object.fromEntries(Object.entries(m).map(([k, v]) => [k.includes('.') ? k.padEnd(41, 'x') : k, v]));
    return { ...req, body: Buffer.from(JSON.stringify(b)) };
  }),
  // 27. A reason of exactly 200 characters is refused (off by one).
  onRequest('h2-reason-200-refused', [], 'reason of 200 characters is 422', ['recordDelta'], (req) => {
    const b = json(req);
    if (typeof b?.reason !== 'string' || [...b.reason].length !== 200) return req;
    b.reason += 'x';
    return { ...req, body: Buffer.from(JSON.stringify(b)) };
  }),
  // 28. An Idempotency-Key of exactly 255 characters is refused (off by one).
  onRequest('h2-idempotency-key-255-refused', [], 'Idempotency-Key of 255 characters is 422', ['recordDelta'], (req) => {
    const k = header(req, 'idempotency-key');
    return k?.length === 255 ? withHeaders(req, { 'idempotency-key': `${k}x` }) : req;
  }),
  // 29. api_key.disabled events of a test key name the live environment in the envelope.
  onEvent('h2-disabled-event-envelope-env', 'api_key.disabled envelope environment is live for a test key', (b) => b.type === 'api_key.disabled' && b.environment === 'test', (b) => { b.environment = 'live'; }),
  // 30. request-password-reset tells a known address apart (an extra member when the account exists).
  {
    id: 'h2-reset-request-enumerates', rules: [], description: 'request-password-reset answers a known email with an extra member',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'login') && res.status === 200) ctx.memory.set(`user:${String(json(req)?.email).toLowerCase()}`, true);
      if (isOperation(req, 'requestPasswordReset') && ctx.memory.get(`user:${String(json(req)?.email).toLowerCase()}`)) return mapJson(res, (b) => { if (b && typeof b === 'object') (b.data ?? b).emailSent = true; });
      return res;
    },
  },
  // 31. The deliveries list shows only each delivery's first attempt (retries are left out).
  onResponse('h2-deliveries-first-attempt-only', [], 'listWebhookDeliveries lists only the first attempt', ['listWebhookDeliveries'], (res) =>
    mapJson(res, (b) => { for (const d of b?.data?.items ?? []) if (Array.isArray(d.attempts) && d.attempts.length > 1) d.attempts = d.attempts.slice(0, 1); })),
  // 32. Once a customer has a later checkpoint, the earlier root no longer verifies (404).
  {
    id: 'h2-verify-superseded-root-404', rules: [], description: 'verifyProofRoot 404 for a root that a later checkpoint chains to',
    async exchange(req, next, ctx) {
      if (isOperation(req, 'verifyProofRoot')) {
        const root = req.url.split('?')[0]!.split('/').pop()!;
        if (ctx.memory.get(`superseded:${root}`)) return next({ ...req, url: req.url.replace(root, 'e'.repeat(64)) });
      }
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint')) { const d = json(res)?.data; if (d?.previousProofRoot) ctx.memory.set(`superseded:${d.previousProofRoot}`, true); }
      return res;
    },
  },
  // 33. GET checkpoint shows the customer's latest closing balance instead of its own once a later one exists.
  {
    id: 'h2-get-checkpoint-latest-closing', rules: [], description: 'getCheckpoint closingBalance follows the latest checkpoint of the customer',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createCheckpoint')) { const d = json(res)?.data; if (d?.customerId) ctx.memory.set(`latest:${d.environment}:${d.customerId}`, d); }
      if (isOperation(req, 'getCheckpoint') && res.status === 200) {
        return mapJson(res, (b) => { const l = ctx.memory.get(`latest:${b?.data?.environment}:${b?.data?.customerId}`); if (l && l.checkpointId !== b.data.checkpointId) b.data.closingBalance = l.closingBalance; });
      }
      return res;
    },
  },
  // 34. A checkpoint's receipt listing shows every receipt as still recorded (GET by id shows it confirmed).
  onResponse('h2-checkpoint-list-status-stale', [], 'listCheckpointReceipts shows status recorded, confirmedAt null', ['listCheckpointReceipts'], (res) =>
    mapJson(res, (b) => { for (const r of b?.data?.items ?? []) if (r.status === 'confirmed') { r.status = 'recorded'; r.confirmedAt = null; } })),
  // 35. The key list shows a disabled key as active (GET by id is right).
  onResponse('h2-key-list-disabled-as-active', [], 'listApiKeys shows disabled keys active', ['listApiKeys'], (res) =>
    mapJson(res, (b) => { for (const k of b?.data?.items ?? []) if (k.active === false) k.active = true; })),
  // 36. Allow leaves out the last method of paths that have three (GET, PATCH, DELETE → "GET, PATCH").
  onResponse('h2-allow-drops-third-method', [], '405 Allow lists only two methods of a three-method path', () => true, (res) => {
    if (res.status !== 405) return res;
    const allow = String(header(res, 'allow') ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    if (allow.length < 3) return res;
    const kept = allow.slice(0, -1);
    return mapJson(withHeaders(res, { allow: kept.join(', ') }), (p) => { if (Array.isArray(p?.allowedMethods)) p.allowedMethods = p.allowedMethods.filter((m: string) => kept.includes(m)); });
  }),
  // 37. PATCH on the dashboard reads a text/plain body as JSON instead of answering 415.
  onRequest('h2-patch-text-plain-accepted', [], 'PATCH with Content-Type text/plain is read as JSON', (req) => req.method === 'PATCH' && req.url.startsWith('/dashboard/') && !/json/i.test(header(req, 'content-type') ?? 'json'), (req) => withHeaders(req, { 'content-type': 'application/json' })),
  // 38. Idempotency keys are scoped per customer: the same key with another customer's body records again (409 expected).
  onRequest('h2-idempotency-per-customer', [], 'Idempotency-Key scoped per customerId', ['recordDelta'], (req) => {
    const k = header(req, 'idempotency-key');
    const c = json(req)?.customerId;
    if (!k || typeof c !== 'string' || k.length > 100) return req;
    return withHeaders(req, { 'idempotency-key': `${k}~${c}`.slice(0, 255) });
  }),
]);
