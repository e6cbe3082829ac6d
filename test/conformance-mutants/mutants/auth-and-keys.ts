// Mutants of the API key rows (R-SURF, R-AUTH, R-KEY, R-ISO, R-SEC): each breaks exactly one
// rule row of conformance/rules/*.ts, the way a real server could. The layer knows the keys
// only from what the server revealed on the way (ctx.memory), as a buggy server would.
import { randomBytes } from 'node:crypto';
import {
  answer,
  defineMutants,
  header,
  isOperation,
  json,
  mapJson,
  observing,
  onRequest,
  onResponse,
  operationOf,
  problem,
  queryOf,
  setCookies,
  withHeaders,
  withJson,
  type Mutant,
  type MutantContext,
  type ProxiedRequest,
  type ProxiedResponse,
} from '../mutant.ts';

// ─── What the layer remembers ─────────────────────────────────────────────────────────────

type KeyInfo = { id: string; publicKey: string; fullKey: string; secretKey: string; permissions?: string[]; environment?: string };

const table = <V>(ctx: MutantContext, name: string): Map<string, V> => {
  let m = ctx.memory.get(name);
  if (!m) ctx.memory.set(name, (m = new Map()));
  return m;
};
/** Keys by id, as revealed by create/regenerate (latest secret). */
const keysById = (ctx: MutantContext) => table<KeyInfo>(ctx, 'keys');
const pathOf = (req: { url: string }) => req.url.split('?')[0]!;
/** The `{id}` of /dashboard/api-keys/{id}[/…]. */
const keyIdOf = (req: { url: string }) => pathOf(req).split('/')[3] ?? '';
const isBalance = (req: ProxiedRequest) => pathOf(req).startsWith('/api/v1/') && !pathOf(req).startsWith('/api/v1/verify/');
const apiKeyOf = (req: ProxiedRequest) => header(req, 'x-api-key');
const withApiKey = (req: ProxiedRequest, key: string | undefined) => withHeaders(req, { 'x-api-key': key });
const listenerOfEnv = (env: string) => (env === 'live' ? 'production' : 'sandbox');
const GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/;
const base62 = (n: number) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % 62]).join('');
};
/** The public and secret prefixes with the environment in any case (the pk/sk letters as sent). */
const PUBLIC_ENV_ANY_CASE = /^pk_([Tt][Ee][Ss][Tt]|[Ll][Ii][Vv][Ee])_/;
const SECRET_ENV_ANY_CASE = /\.sk_([Tt][Ee][Ss][Tt]|[Ll][Ii][Vv][Ee])_/;
const keyItems = (body: any): any[] => (Array.isArray(body?.data?.items) ? body.data.items : []);

/** Records the keys a create or regenerate response reveals. */
function learn(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  if (!isOperation(req, 'createApiKey', 'regenerateApiKey') || res.status >= 300) return;
  const d = json(res)?.data;
  if (!d?.id || !d.fullKey) return;
  const before = keysById(ctx).get(d.id);
  keysById(ctx).set(d.id, { ...before, ...d });
}

/** A mutant whose exchange runs after `learn` has seen every create/regenerate response. */
const keyMutant = (m: Mutant): Mutant => observing(learn, m);

/** A reveal rewritten (create/regenerate): the client sees `shown` instead of the real secret; requests carrying `shown` are mapped back. */
function disguisedSecret(id: string, rules: string[], description: string, disguise: (real: { env: string; publicKey: string; secret: string }) => string, operations = ['createApiKey', 'regenerateApiKey']): Mutant {
  return keyMutant({
    id,
    rules,
    description,
    async exchange(req, next, ctx) {
      const aliases = table<string>(ctx, 'aliases');
      const presented = apiKeyOf(req);
      const res = await next(presented && aliases.has(presented) ? withApiKey(req, aliases.get(presented)) : req);
      if (!isOperation(req, ...operations) || res.status >= 300) return res;
      return mapJson(res, (body) => {
        const d = body?.data;
        const m = GRAMMAR.exec(d?.fullKey ?? '');
        if (!m) return;
        const shownSecret = disguise({ env: m[3]!, publicKey: `pk_${m[1]}_${m[2]}`, secret: m[4]! });
        const shownFull = `pk_${m[1]}_${m[2]}.${shownSecret}`;
        aliases.set(shownFull, d.fullKey);
        d.secretKey = shownSecret;
        d.fullKey = shownFull;
      });
    },
  });
}

/** Answers as the server would for a deleted (unknown) key id. */
const keyNotFound = () => problem(404, 'not_found', 'No API key with this id.');

/** Looks the key up as the caller (so another tenant's or an unknown id is still a 404). */
async function callerSeesKey(req: ProxiedRequest, ctx: MutantContext) {
  const res = await ctx.forward({ ...req, method: 'GET', url: `/dashboard/api-keys/${keyIdOf(req)}`, body: Buffer.alloc(0) });
  return res.status === 200 ? json(res)?.data : undefined;
}

// ─── Legacy faults, moved out of the sandbox ──────────────────────────────────────────────

const legacy: Mutant[] = [
  {
    id: 'surf-wrong-environment-key-accepted',
    rules: ['R-SURF-005'],
    description: 'A key is routed to the listener of its own environment: pk_live_ keys work at the Sandbox URL and pk_test_ keys at the Production URL.',
    async exchange(req, next) {
      const env = /^pk_(test|live)_/.exec(apiKeyOf(req) ?? '')?.[1];
      return next(env && isBalance(req) ? { ...req, listener: listenerOfEnv(env) } : req);
    },
  },
  keyMutant({
    id: 'key-disabled-key-accepted',
    rules: ['R-KEY-010'],
    description: 'Toggle only records the state it reports: a "disabled" key keeps authenticating (the disable is swallowed).',
    async exchange(req, next, ctx) {
      const disabled = table<boolean>(ctx, 'disabled');
      if (isOperation(req, 'toggleApiKey')) return swallowedToggle(req, next, ctx, disabled);
      const res = await next(req);
      if (!isOperation(req, 'getApiKey', 'listApiKeys')) return res;
      return mapJson(res, (body) => {
        for (const k of isOperation(req, 'getApiKey') ? [body?.data] : keyItems(body)) if (k && disabled.has(k.id)) k.active = !disabled.get(k.id);
      });
    },
  }),
  {
    id: 'key-deleted-key-accepted',
    rules: ['R-KEY-011'],
    description: 'Delete only hides the key from the dashboard: the deleted key keeps authenticating on the Balance API.',
    async exchange(req, next, ctx) {
      const deleted = table<boolean>(ctx, 'deleted');
      if (isOperation(req, 'deleteApiKey', 'getApiKey', 'toggleApiKey', 'regenerateApiKey') && deleted.has(keyIdOf(req))) return keyNotFound();
      if (isOperation(req, 'deleteApiKey')) {
        const key = await callerSeesKey(req, ctx);
        if (!key) return next(req);
        deleted.set(key.id, true);
        return answer(200, { statusCode: 200, message: 'API key deleted successfully.' });
      }
      const res = await next(req);
      if (!isOperation(req, 'listApiKeys')) return res;
      return mapJson(res, (body) => {
        const items = keyItems(body);
        const kept = items.filter((k) => !deleted.has(k.id));
        if (body?.data && kept.length !== items.length) Object.assign(body.data, { items: kept, total: body.data.total - (items.length - kept.length) });
      });
    },
  },
  keyMutant({
    id: 'key-regenerated-secret-still-valid',
    rules: ['R-KEY-009'],
    description: 'After regenerating, the old secret keeps authenticating (the server accepts the previous secret too).',
    async exchange(req, next, ctx) {
      const superseded = table<string>(ctx, 'superseded');
      const before = isOperation(req, 'regenerateApiKey') ? keysById(ctx).get(keyIdOf(req))?.fullKey : undefined;
      let presented = apiKeyOf(req);
      for (let i = 0; presented && superseded.has(presented) && i < 20; i++) presented = superseded.get(presented);
      const res = await next(isBalance(req) && presented !== apiKeyOf(req) ? withApiKey(req, presented) : req);
      const after = json(res)?.data?.fullKey;
      if (before && res.status === 200 && after) superseded.set(before, after);
      return res;
    },
  }),
  keyMutant({
    id: 'auth-permission-not-enforced',
    rules: ['R-AUTH-005'],
    description: 'Key permissions are stored and shown but never enforced: every key can read and write.',
    async exchange(req, next, ctx) {
      const requested = table<string[]>(ctx, 'requested');
      if (isOperation(req, 'createApiKey')) {
        const body = json(req);
        if (!Array.isArray(body?.permissions)) return next(req);
        const { permissions, ...rest } = body;
        const res = await next(withJson(req, rest));
        const id = json(res)?.data?.id;
        if (id) requested.set(id, permissions);
        return mapJson(res, (b) => void (b.data && (b.data.permissions = permissions)));
      }
      const res = await next(req);
      if (!isOperation(req, 'getApiKey', 'listApiKeys')) return res;
      return mapJson(res, (body) => {
        for (const k of isOperation(req, 'getApiKey') ? [body?.data] : keyItems(body)) if (k && requested.has(k.id)) k.permissions = requested.get(k.id);
      });
    },
  }),
  onRequest('auth-key-in-query-accepted', ['R-AUTH-004'], 'A key in ?api_key= authenticates a Balance API request (a convenience for browsers).', isBalance, (req) => {
    const query = queryOf(req).get('api_key');
    return query && !apiKeyOf(req) ? withApiKey(req, query) : req;
  }),
  {
    id: 'auth-errors-tell-cause',
    rules: ['R-AUTH-002'],
    description: 'The 401 says why: malformed key, unknown public id, wrong secret, mixed environments.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const seen = table<boolean>(ctx, 'publicIds');
      const key = apiKeyOf(req) ?? '';
      const m = GRAMMAR.exec(key);
      if (res.status < 300 && m) seen.set(m[2]!, true);
      if (res.status !== 401 || !isBalance(req)) return res;
      const cause = !key
        ? 'No API key was sent.'
        : !m
          ? 'The API key is malformed.'
          : m[1] !== m[3]
            ? 'The two halves of the API key name different environments.'
            : seen.has(m[2]!)
              ? 'The secret does not match this API key.'
              : 'No API key has this public id.';
      return mapJson(res, (p) => void (p.detail = cause));
    },
  },
  disguisedSecret('key-weak-key-secrets', ['R-KEY-002'], 'Secrets are 12 base62 characters (about 71 bits), short enough to guess offline.', ({ env }) => `sk_${env}_${base62(12)}`),
  disguisedSecret('key-env-parts-disagree', ['R-KEY-001'], 'A test key is revealed with a sk_live_ secret half (the environment of the secret is taken from the wrong place).', ({ secret }) => `sk_live_${secret}`),
  keyMutant({
    id: 'key-secret-in-get',
    rules: ['R-KEY-007'],
    description: 'GET /dashboard/api-keys/{id} includes the key\'s secretKey.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'getApiKey') || res.status !== 200) return res;
      return mapJson(res, (body) => {
        const known = keysById(ctx).get(body?.data?.id);
        if (known) body.data.secretKey = known.secretKey;
      });
    },
  }),
  keyMutant({
    id: 'key-secret-in-list',
    rules: ['R-KEY-007'],
    description: 'GET /dashboard/api-keys includes each key\'s secretKey (reveal-once broken).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'listApiKeys')) return res;
      return mapJson(res, (body) => {
        for (const k of keyItems(body)) if (keysById(ctx).has(k.id)) k.secretKey = keysById(ctx).get(k.id)!.secretKey;
      });
    },
  }),
  onResponse('auth-unknown-key-403', ['R-AUTH-002'], 'An unknown or malformed API key gets 403 instead of 401.', isBalance, (res) =>
    res.status === 401 ? mapJson({ ...res, status: 403 }, (p) => ({ ...p, status: 403 })) : res,
  ),
];


// ─── More memory: who called with what ────────────────────────────────────────────────────

const accessOf = (req: ProxiedRequest) => /(?:^|;\s*)pacspace_access=([^;]+)/.exec(header(req, 'cookie') ?? '')?.[1];
/** Remembers the cookie header of every session and every key that was answered with success, and which key could read or write. */
function observe(req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) {
  learn(req, res, ctx);
  if (isOperation(req, 'login') && res.status === 200) {
    const access = setCookies(res).map((c) => /^pacspace_access=([^;]+)/.exec(c)?.[1]).find(Boolean);
    if (access) table<string>(ctx, 'sessions').set(access, `pacspace_access=${access}`);
  }
  if (res.status < 400) {
    const access = accessOf(req);
    if (access) table<string>(ctx, 'sessions').set(access, header(req, 'cookie')!);
    const key = apiKeyOf(req);
    if (key && isBalance(req)) {
      table<boolean>(ctx, 'goodKeys').set(key, true);
      if (req.method === 'GET') table<boolean>(ctx, 'readers').set(key, true);
      if (isOperation(req, 'recordDelta')) table<boolean>(ctx, 'writers').set(key, true);
    }
  }
}
/** A toggle answered as done but never carried out: the state it reports is kept in `disabled` only. */
async function swallowedToggle(req: ProxiedRequest, next: (r: ProxiedRequest) => Promise<ProxiedResponse>, ctx: MutantContext, disabled: Map<string, boolean>) {
  const key = await callerSeesKey(req, ctx);
  if (!key) return next(req);
  const active = disabled.get(key.id) ?? !key.active;
  disabled.set(key.id, !active);
  return answer(200, { statusCode: 200, data: { id: key.id, active, message: active ? 'API key has been enabled.' : 'API key has been disabled.' } });
}
/** A mutant that sees every exchange after `observe` has. */
const observed = (m: Mutant): Mutant => observing(observe, m);
const firstOther = (m: Map<string, unknown>, not: string | undefined) => [...m.keys()].find((k) => k !== not);
/** The created key (by the memory of reveals) a presented full key belongs to. */
const knownKeyOf = (ctx: MutantContext, presented: string | undefined) => {
  const publicKey = presented?.split('.')[0];
  return [...keysById(ctx).values()].find((k) => k.publicKey === publicKey);
};
const refuseAsBadKey = (req: ProxiedRequest, next: (r: ProxiedRequest) => Promise<ProxiedResponse>) => next(withApiKey(req, 'not-a-key'));
const remembered = (ctx: MutantContext, name: string) => table<any>(ctx, name);

// ─── R-SURF ───────────────────────────────────────────────────────────────────────────────

const surf: Mutant[] = [
  {
    id: 'surf-key-read-only-from-bearer',
    rules: ['R-SURF-001'],
    description: 'The Balance API reads the key from Authorization: Bearer and ignores X-Api-Key.',
    exchange: (req, next) => next(isBalance(req) ? withHeaders(req, { 'x-api-key': /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1] }) : req),
  },
  onRequest('surf-balance-api-needs-session-too', ['R-SURF-001'], 'The Balance API asks for a dashboard session cookie besides the key (the session middleware was mounted on /api too).', isBalance, (req) =>
    accessOf(req) ? req : problem(401, 'unauthenticated', 'Valid credentials are required for this request.'),
  ),
  {
    id: 'surf-bearer-token-accepted-on-dashboard',
    rules: ['R-SURF-002'],
    description: 'The Dashboard API still accepts the older Authorization: Bearer scheme (the token is taken as the session).',
    exchange(req, next) {
      const bearer = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1];
      return next(bearer && pathOf(req).startsWith('/dashboard/') && !accessOf(req) ? withHeaders(req, { cookie: `pacspace_access=${bearer}` }) : req);
    },
  },
  observed({
    id: 'surf-session-cookie-on-balance-api',
    rules: ['R-SURF-003'],
    description: 'A Balance API request with a dashboard session cookie and no key is served with a key of the session\'s account.',
    exchange(req, next, ctx) {
      const key = firstOther(table(ctx, 'goodKeys'), undefined);
      return next(isBalance(req) && !apiKeyOf(req) && accessOf(req) && key ? withApiKey(req, key) : req);
    },
  }),
  observed({
    id: 'surf-session-cookie-on-balance-writes',
    rules: ['R-SURF-003'],
    description: 'Balance API writes sent with a dashboard session cookie and the CSRF header (as from the dashboard\'s own "record a delta" form) are served with a key of the account.',
    exchange(req, next, ctx) {
      const key = firstOther(table(ctx, 'writers'), undefined) ?? firstOther(table(ctx, 'goodKeys'), undefined);
      return next(isBalance(req) && req.method === 'POST' && !apiKeyOf(req) && accessOf(req) && header(req, 'x-pacspace-csrf') && key ? withApiKey(req, key) : req);
    },
  }),
  onRequest('auth-query-key-overrides-header', ['R-AUTH-004'], 'When both are sent, ?api_key= wins over X-Api-Key.', isBalance, (req) => {
    const query = queryOf(req).get('api_key');
    return query ? withApiKey(req, query) : req;
  }),
  observed({
    id: 'surf-billing-without-session',
    rules: ['R-SURF-004'],
    description: 'GET /dashboard/billing is served without a session (the route was left out of the session middleware): it shows the last signed-in account\'s billing.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'getBillingSummary') || accessOf(req)) return res;
      for (const cookie of table<string>(ctx, 'sessions').values()) {
        const served = await next(withHeaders(req, { cookie }));
        if (served.status === 200) return served;
      }
      return res;
    },
  }),
  observed({
    id: 'surf-any-session-cookie-accepted',
    rules: ['R-SURF-004'],
    description: 'A pacspace_access cookie the server never issued is taken for the last valid session (a lookup that falls back instead of failing).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (res.status !== 401 || !pathOf(req).startsWith('/dashboard/') || !accessOf(req) || table<string>(ctx, 'sessions').has(accessOf(req)!)) return res;
      for (const cookie of table<string>(ctx, 'sessions').values()) {
        const served = await next(withHeaders(req, { cookie }));
        if (served.status < 400) return served;
      }
      return res;
    },
  }),
  onRequest('surf-password-reset-request-needs-session', ['R-SURF-004'], 'POST /dashboard/auth/request-password-reset asks for a session (a public route behind the session middleware).', ['requestPasswordReset'], (req) =>
    accessOf(req) ? req : problem(401, 'unauthenticated', 'Valid credentials are required for this request.'),
  ),
  {
    id: 'surf-pk-test-key-works-at-production',
    rules: ['R-SURF-005'],
    description: 'The Production listener falls back to the Sandbox for keys it does not know (pk_test_ keys work at the Production URL); the Sandbox listener is strict.',
    async exchange(req, next) {
      const res = await next(req);
      return res.status === 401 && isBalance(req) && req.listener === 'production' && /^pk_test_/.test(apiKeyOf(req) ?? '') ? next({ ...req, listener: 'sandbox' }) : res;
    },
  },
  {
    id: 'surf-live-key-works-at-sandbox',
    rules: ['R-SURF-005'],
    description: 'The Sandbox listener passes pk_live_ keys on to Production (a "helpful" fallback); the Production listener is strict.',
    exchange: (req, next) => next(isBalance(req) && req.listener === 'sandbox' && /^pk_live_/.test(apiKeyOf(req) ?? '') ? { ...req, listener: 'production' } : req),
  },
  onResponse('surf-environments-key-environment-swapped', ['R-SURF-006'], 'GET /dashboard/environments gives testnet the key environment live and mainnet test.', ['listEnvironments'], (res) =>
    mapJson(res, (body) => {
      for (const e of body?.data ?? []) e.keyEnvironment = e.keyEnvironment === 'test' ? 'live' : 'test';
    }),
  ),
  onResponse('surf-list-shows-network-as-environment', ['R-SURF-006'], 'The key list gives each key its contract network (testnet/mainnet) as environment instead of test/live.', ['listApiKeys'], (res) =>
    mapJson(res, (body) => {
      for (const k of keyItems(body)) k.environment = k.environment === 'live' ? 'mainnet' : 'testnet';
    }),
  ),
    onResponse('surf-environment-base-urls-swapped', ['R-SURF-007'], 'GET /dashboard/environments gives each environment the other one\'s apiBaseUrl.', ['listEnvironments'], (res) =>
    mapJson(res, (body) => {
      const list = body?.data ?? [];
      if (list.length === 2) [list[0].apiBaseUrl, list[1].apiBaseUrl] = [list[1].apiBaseUrl, list[0].apiBaseUrl];
    }),
  ),
  onResponse('surf-unknown-path-html-404', ['R-SURF-008'], 'A path outside the contract gets the framework\'s HTML 404 page, not a problem.', (req) => !operationOf(req) && !req.url.startsWith('/__sandbox'), (res) =>
    res.status === 404 ? { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from('<!DOCTYPE html><title>Not Found</title><h1>Cannot GET</h1>') } : res,
  ),
];

// ─── R-AUTH ───────────────────────────────────────────────────────────────────────────────

const auth: Mutant[] = [
  onRequest('auth-missing-key-400', ['R-AUTH-001'], 'A Balance API request without X-Api-Key is 400 (a missing required header), not 401.', isBalance, (req) =>
    apiKeyOf(req) === undefined ? problem(400, 'bad_request', 'The X-Api-Key header is required.') : req,
  ),
  observed({
    id: 'auth-reads-without-key',
    rules: ['R-AUTH-001'],
    description: 'Balance API reads without a key are served as the account\'s default key (reads were made public like verify).',
    exchange(req, next, ctx) {
      const key = firstOther(table(ctx, 'readers'), undefined);
      return next(isBalance(req) && req.method === 'GET' && apiKeyOf(req) === undefined && key ? withApiKey(req, key) : req);
    },
  }),
  onRequest('auth-mixed-env-key-accepted', ['R-AUTH-002'], 'The environment of the secret half is ignored: pk_test_….sk_live_… authenticates like pk_test_….sk_test_….', isBalance, (req) => {
    const m = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/.exec(apiKeyOf(req) ?? '');
    return m && m[1] !== m[3] ? withApiKey(req, `pk_${m[1]}_${m[2]}.sk_${m[1]}_${m[4]}`) : req;
  }),
  onRequest('auth-key-prefix-case-insensitive', ['R-AUTH-002'], 'Key prefixes are matched case-insensitively: PK_test_….SK_test_… authenticates.', isBalance, (req) => {
    const key = apiKeyOf(req);
    return key ? withApiKey(req, key.replace(/^pk_/i, 'pk_').replace(/\.sk_/i, '.sk_')) : req;
  }),
  onRequest('auth-key-environment-case-insensitive', ['R-AUTH-002'], 'The environment part of a key is matched case-insensitively: pk_TEST_….sk_TEST_… authenticates.', isBalance, (req) => {
    const key = apiKeyOf(req);
    return key ? withApiKey(req, key.replace(PUBLIC_ENV_ANY_CASE, (_, e: string) => `pk_${e.toLowerCase()}_`).replace(SECRET_ENV_ANY_CASE, (_, e: string) => `.sk_${e.toLowerCase()}_`)) : req;
  }),
  keyMutant({
    id: 'auth-disabled-key-tells-cause',
    rules: ['R-AUTH-003'],
    description: 'A disabled key\'s 401 says "This API key is disabled." (other bad keys get the generic 401).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'toggleApiKey') && res.status === 200) remembered(ctx, 'disabled').set(keyIdOf(req), json(res)?.data?.active === false);
      const key = knownKeyOf(ctx, apiKeyOf(req));
      return res.status === 401 && isBalance(req) && key && remembered(ctx, 'disabled').get(key.id) ? mapJson(res, (p) => void (p.detail = 'This API key is disabled.')) : res;
    },
  }),
  keyMutant({
    id: 'auth-deleted-key-410',
    rules: ['R-AUTH-003'],
    description: 'A deleted key gets 410 Gone on the Balance API instead of the 401 of any bad key.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'deleteApiKey') && res.status === 200) remembered(ctx, 'deleted').set(keyIdOf(req), true);
      const key = knownKeyOf(ctx, apiKeyOf(req));
      return res.status === 401 && isBalance(req) && key && remembered(ctx, 'deleted').get(key.id) ? problem(410, 'gone', 'This API key was deleted.') : res;
    },
  }),
  onRequest('auth-key-in-query-on-writes', ['R-AUTH-004'], 'A key in ?apiKey= authenticates Balance API writes (for form posts); reads are strict.', (req) => isBalance(req) && req.method === 'POST', (req) => {
    const query = queryOf(req).get('apiKey');
    return query && !apiKeyOf(req) ? withApiKey(req, query) : req;
  }),
  onResponse('auth-permission-401', ['R-AUTH-005'], 'A valid key lacking the permission gets 401 unauthenticated instead of 403.', isBalance, (res) =>
    res.status === 403 && json(res)?.code === 'insufficient_permission' ? problem(401, 'unauthenticated', 'Valid credentials are required for this request.') : res,
  ),
  observed({
    id: 'auth-refused-write-recorded',
    rules: ['R-AUTH-005'],
    description: 'A write by a key lacking balance:write is recorded before the permission is checked, then answered 403.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const writer = firstOther(table(ctx, 'writers'), apiKeyOf(req));
      if (isOperation(req, 'recordDelta') && res.status === 403 && writer) await ctx.forward(withApiKey(req, writer));
      return res;
    },
  }),
  keyMutant({
    id: 'auth-compare-needs-write',
    rules: ['R-AUTH-006'],
    description: 'POST /api/v1/balance/compare asks for balance:write (it is a POST), so a read-only key cannot compare.',
    async exchange(req, next, ctx) {
      const key = knownKeyOf(ctx, apiKeyOf(req));
      if (isOperation(req, 'compareBalances') && key?.permissions && !key.permissions.includes('balance:write')) return problem(403, 'insufficient_permission', 'This API key does not have the balance:write permission.');
      return next(req);
    },
  }),
  observed({
    id: 'auth-write-only-key-reads-receipts',
    rules: ['R-AUTH-006'],
    description: 'Receipts are readable by any key of the tenant, also one with only balance:write.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const reader = firstOther(table(ctx, 'readers'), apiKeyOf(req));
      return isOperation(req, 'getReceipt') && res.status === 403 && reader ? next(withApiKey(req, reader)) : res;
    },
  }),
  onRequest('auth-default-permissions-read-only', ['R-AUTH-007'], 'A key created without permissions gets only balance:read.', ['createApiKey'], (req) => {
    const body = json(req);
    return body && !('permissions' in body) ? withJson(req, { ...body, permissions: ['balance:read'] }) : req;
  }),
  keyMutant({
    id: 'auth-new-key-revokes-older',
    rules: ['R-AUTH-008'],
    description: 'Creating a key retires the account\'s older created keys of that environment (no rotation without downtime).',
    async exchange(req, next, ctx) {
      const key = knownKeyOf(ctx, apiKeyOf(req));
      const newest = [...keysById(ctx).values()].filter((k) => k.environment === key?.environment).at(-1);
      return isBalance(req) && key && newest && newest.id !== key.id ? refuseAsBadKey(req, next) : next(req);
    },
  }),
  onResponse('auth-last-used-never-set', ['R-AUTH-009'], 'lastUsedAt stays null however often the key is used.', ['getApiKey', 'listApiKeys'], (res) =>
    mapJson(res, (body) => eachKey(body, (k) => void (k.lastUsedAt = null))),
  ),
  {
    id: 'auth-last-used-derive-only',
    rules: ['R-AUTH-009'],
    description: 'lastUsedAt is set only by derive: a key used only to record deltas or compare shows null.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const pub = (apiKeyOf(req) ?? '').split('.')[0];
      if (isOperation(req, 'deriveBalance') && res.status === 200) ctx.memory.set(`derived:${pub}`, true);
      if (!isOperation(req, 'getApiKey', 'listApiKeys')) return res;
      return mapJson(res, (body) => eachKey(body, (k) => { if (!ctx.memory.get(`derived:${k.publicKey}`)) k.lastUsedAt = null; }));
    },
  },
  {
    id: 'auth-last-used-on-failed-attempt',
    rules: ['R-AUTH-009'],
    description: 'A Balance API request with a key\'s public id and a wrong secret sets its lastUsedAt (as if it had authenticated).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const pub = (apiKeyOf(req) ?? '').split('.')[0];
      if (isBalance(req) && res.status === 401 && pub) ctx.memory.set(`tried:${pub}`, new Date().toISOString());
      if (!isOperation(req, 'getApiKey', 'listApiKeys')) return res;
      return mapJson(res, (body) => eachKey(body, (k) => { k.lastUsedAt ??= ctx.memory.get(`tried:${k.publicKey}`) ?? null; }));
    },
  },
  onResponse('auth-last-used-set-at-creation', ['R-AUTH-009'], 'lastUsedAt is set to createdAt when the key is created, not when it is first used.', ['createApiKey', 'getApiKey', 'listApiKeys'], (res) =>
    mapJson(res, (body) => eachKey(body, (k) => void (k.lastUsedAt ??= k.createdAt))),
  ),
];

/** Every key object of a create/get/list body. */
function eachKey(body: any, visit: (k: any) => void) {
  for (const k of keyItems(body)) visit(k);
  if (body?.data && typeof body.data === 'object' && 'lastUsedAt' in body.data) visit(body.data);
}

// ─── R-KEY ────────────────────────────────────────────────────────────────────────────────

/** A secret shown in a response of `operations` where it must not be. */
const secretShownIn = (id: string, description: string, operations: string[], where: (body: any, key: KeyInfo, req: ProxiedRequest) => void, when: (req: ProxiedRequest) => boolean = () => true) =>
  keyMutant({
    id,
    rules: ['R-KEY-007'],
    description,
    async exchange(req, next, ctx) {
      const known = keysById(ctx).get(keyIdOf(req));
      const res = await next(req);
      if (!isOperation(req, ...operations) || res.status !== 200 || !when(req)) return res;
      return mapJson(res, (body) => {
        if (known) where(body, known, req);
        for (const k of keyItems(body)) if (keysById(ctx).has(k.id)) k.secretKey = keysById(ctx).get(k.id)!.secretKey;
      });
    },
  });

const key: Mutant[] = [
  disguisedSecret('key-regenerate-env-parts-disagree', ['R-KEY-001'], 'A regenerated test key is revealed with a sk_live_ secret half.', ({ secret }) => `sk_live_${secret}`, ['regenerateApiKey']),
  onResponse('key-public-key-without-prefix', ['R-KEY-001'], 'The create response gives publicKey as the bare public id, without its pk_{env}_ prefix.', ['createApiKey'], (res) =>
    mapJson(res, (body) => {
      if (typeof body?.data?.publicKey === 'string') body.data.publicKey = body.data.publicKey.replace(/^pk_(test|live)_/, '');
    }),
  ),
  disguisedSecret('key-weak-regenerated-secrets', ['R-KEY-002'], 'Regenerate draws its new secret from a weaker generator: 16 characters of hex (64 bits).', ({ env }) => `sk_${env}_${randomBytes(8).toString('hex')}`, ['regenerateApiKey']),
  disguisedSecret('key-secrets-share-a-stem', ['R-KEY-002'], 'Secrets start with a fixed stem and only their tail is random.', ({ env, secret }) => `sk_${env}_PacSpaceKey0${secret.slice(12)}`),
  onRequest('key-default-environment-live', ['R-KEY-003'], 'A key created without environment is a live key (so, before mainnet is active, the create fails).', ['createApiKey'], (req) => {
    const body = json(req);
    return body && !('environment' in body) ? withJson(req, { ...body, environment: 'live' }) : req;
  }),
  onResponse('key-live-key-before-mainnet-403', ['R-KEY-004'], 'A live key before mainnet is active is 403 account_not_approved instead of 409 environment_not_active.', ['createApiKey'], (res) =>
    res.status === 409 ? problem(403, 'account_not_approved', 'The account cannot create live keys yet.') : res,
  ),
  {
    id: 'key-live-key-created-anyway',
    rules: ['R-KEY-004'],
    description: 'A live key asked for before mainnet is active is created as a test key, and the answer is still 409.',
    async exchange(req, next) {
      const body = json(req);
      if (!isOperation(req, 'createApiKey') || body?.environment !== 'live') return next(req);
      const res = await next(req);
      if (res.status !== 409) return res;
      await next(withJson(req, { ...body, environment: 'test' }));
      return res;
    },
  },
  onResponse('key-create-hides-full-key', ['R-KEY-006'], 'The create response reveals secretKey but not fullKey.', ['createApiKey'], (res) =>
    mapJson(res, (body) => void delete body?.data?.fullKey),
  ),
  onResponse('key-regenerate-hides-secret', ['R-KEY-006'], 'Regenerate answers 200 without revealing the new secret (secretKey and fullKey left out), so the key can never be used again.', ['regenerateApiKey'], (res) =>
    mapJson(res, (body) => {
      delete body?.data?.secretKey;
      delete body?.data?.fullKey;
    }),
  ),
  secretShownIn('key-secret-in-toggle', 'The toggle response includes the key\'s secretKey.', ['toggleApiKey'], (body, k) => void (body.data.secretKey = k.secretKey)),
  secretShownIn('key-secret-in-delete', 'The delete response includes the deleted key\'s secretKey.', ['deleteApiKey'], (body, k) => void (body.secretKey = k.secretKey)),
  secretShownIn('key-secret-in-later-list-pages', 'List pages after the first include each key\'s secretKey (a second serializer for later pages).', ['listApiKeys'], () => undefined, (req) => Number(queryOf(req).get('page') ?? '1') > 1),
  keyMutant({
    id: 'key-new-key-not-yet-active',
    rules: ['R-KEY-008'],
    description: 'A new key authenticates only after two seconds (the key store is eventually consistent).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (isOperation(req, 'createApiKey') && res.status === 201) remembered(ctx, 'createdAt').set(json(res)?.data?.id, Date.now());
      const key = knownKeyOf(ctx, apiKeyOf(req));
      const at = key && remembered(ctx, 'createdAt').get(key.id);
      return isBalance(req) && at && Date.now() - at < 2_000 ? refuseAsBadKey(req, next) : res;
    },
  }),
  {
    id: 'key-created-disabled',
    rules: ['R-KEY-008'],
    description: 'A new key is created disabled and must be enabled with toggle first.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const id = json(res)?.data?.id;
      if (!isOperation(req, 'createApiKey') || res.status !== 201 || !id) return res;
      await ctx.forward({ ...req, url: `/dashboard/api-keys/${id}/toggle`, body: Buffer.alloc(0), headers: withHeaders(req, { 'content-type': undefined }).headers });
      return mapJson(res, (body) => void (body.data.active = false));
    },
  },
  {
    id: 'key-regenerate-enables-disabled-key',
    rules: ['R-KEY-009'],
    description: 'Regenerating a disabled key enables it again (the new secret is stored as a fresh, active key).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'regenerateApiKey') || res.status !== 200) return res;
      const now = await callerSeesKey(req, ctx);
      if (now && now.active === false) await ctx.forward({ ...req, url: `/dashboard/api-keys/${now.id}/toggle` });
      return res;
    },
  },
  keyMutant({
    id: 'key-regenerated-secret-valid-for-reads',
    rules: ['R-KEY-009'],
    description: 'After regenerating, the old secret still authenticates reads (a read replica has the old hash); writes are refused.',
    async exchange(req, next, ctx) {
      const superseded = table<string>(ctx, 'superseded');
      const before = isOperation(req, 'regenerateApiKey') ? keysById(ctx).get(keyIdOf(req))?.fullKey : undefined;
      let presented = apiKeyOf(req);
      for (let i = 0; presented && superseded.has(presented) && i < 20; i++) presented = superseded.get(presented);
      const res = await next(isBalance(req) && req.method === 'GET' && presented !== apiKeyOf(req) ? withApiKey(req, presented) : req);
      const after = json(res)?.data?.fullKey;
      if (before && res.status === 200 && after) superseded.set(before, after);
      return res;
    },
  }),
  onResponse('key-toggle-messages-swapped', ['R-KEY-010'], 'Toggle says "API key has been enabled." when it disables and the other way round.', ['toggleApiKey'], (res) =>
    mapJson(res, (body) => {
      const d = body?.data;
      if (d?.message) d.message = d.active ? 'API key has been disabled.' : 'API key has been enabled.';
    }),
  ),
  keyMutant({
    id: 'key-disabled-key-can-write',
    rules: ['R-KEY-010'],
    description: 'Only reads check whether a key is disabled: a disabled key can still record deltas.',
    async exchange(req, next, ctx) {
      const disabled = table<boolean>(ctx, 'disabled');
      if (isOperation(req, 'toggleApiKey')) return swallowedToggle(req, next, ctx, disabled);
      const known = knownKeyOf(ctx, apiKeyOf(req));
      if (isBalance(req) && req.method === 'GET' && known && disabled.get(known.id)) return refuseAsBadKey(req, next);
      const res = await next(req);
      if (!isOperation(req, 'getApiKey', 'listApiKeys')) return res;
      return mapJson(res, (body) => eachKey(body, (k) => void (disabled.has(k.id) && (k.active = !disabled.get(k.id)))));
    },
  }),
  {
    id: 'key-deleted-key-still-listed',
    rules: ['R-KEY-011'],
    description: 'A deleted key is soft-deleted and still appears in the list (total included).',
    async exchange(req, next, ctx) {
      const gone = table<any>(ctx, 'gone');
      const view = isOperation(req, 'deleteApiKey') ? await callerSeesKey(req, ctx) : undefined;
      const res = await next(req);
      if (view && res.status === 200) gone.set(view.id, view);
      if (!isOperation(req, 'listApiKeys') || res.status !== 200 || !gone.size || (queryOf(req).get('page') ?? '1') !== '1') return res;
      return mapJson(res, (body) => {
        body.data.items.push(...gone.values());
        body.data.total += gone.size;
      });
    },
  },
  {
    id: 'key-deleted-key-readable',
    rules: ['R-KEY-011'],
    description: 'GET /dashboard/api-keys/{id} of a deleted key answers 200 with the key as it was.',
    async exchange(req, next, ctx) {
      const gone = table<any>(ctx, 'gone');
      const view = isOperation(req, 'deleteApiKey') ? await callerSeesKey(req, ctx) : undefined;
      const res = await next(req);
      if (view && res.status === 200) gone.set(view.id, view);
      return isOperation(req, 'getApiKey') && res.status === 404 && gone.has(keyIdOf(req)) ? answer(200, { statusCode: 200, data: gone.get(keyIdOf(req)) }) : res;
    },
  },
  {
    id: 'key-delete-twice-200',
    rules: ['R-KEY-012'],
    description: 'Deleting an already deleted key answers 200 again (delete made "idempotent").',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const gone = table<boolean>(ctx, 'gone');
      if (!isOperation(req, 'deleteApiKey')) return res;
      if (res.status === 200) gone.set(keyIdOf(req), true);
      return res.status === 404 && gone.has(keyIdOf(req)) ? answer(200, { statusCode: 200, message: 'API key deleted successfully.' }) : res;
    },
  },
  {
    id: 'key-regenerate-deleted-500',
    rules: ['R-KEY-012'],
    description: 'Regenerating a deleted key fails with 500 (the handler dereferences the missing key).',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const gone = table<boolean>(ctx, 'gone');
      if (isOperation(req, 'deleteApiKey') && res.status === 200) gone.set(keyIdOf(req), true);
      return isOperation(req, 'regenerateApiKey') && res.status === 404 && gone.has(keyIdOf(req)) ? problem(500, 'internal_error', 'An unexpected error occurred.') : res;
    },
  },
];

// ─── R-ISO ────────────────────────────────────────────────────────────────────────────────

/** Object-by-id operations: a server without tenant scoping finds the object with any tenant's credentials. */
const BY_ID = {
  session: ['getApiKey', 'deleteApiKey', 'regenerateApiKey', 'toggleApiKey', 'getEnvironmentStatus', 'getWebhookEndpoint', 'updateWebhookEndpoint', 'deleteWebhookEndpoint', 'rotateWebhookSecret', 'sendWebhookTestEvent', 'listWebhookDeliveries'],
  apiKey: ['getReceipt', 'getCheckpoint', 'listCheckpointReceipts'],
};
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const unscoped = (operationId: string, by: 'session' | 'apiKey'): Mutant =>
  observed({
    id: `iso-unscoped-${kebab(operationId)}`,
    rules: ['R-ISO-001'],
    description: `${operationId} looks the object up by id alone: another tenant's id is found (the tenant filter is missing).`,
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, operationId) || res.status !== 404) return res;
      if (by === 'session') {
        const mine = accessOf(req);
        for (const [access, cookie] of table<string>(ctx, 'sessions')) {
          if (access === mine) continue;
          const other = await next(withHeaders(req, { cookie }));
          if (other.status < 400) return other;
        }
      } else {
        for (const key of table<boolean>(ctx, 'goodKeys').keys()) {
          if (key === apiKeyOf(req)) continue;
          const other = await next(withApiKey(req, key));
          if (other.status < 400) return other;
        }
      }
      return res;
    },
  });

const iso: Mutant[] = [
  ...BY_ID.session.map((op) => unscoped(op, 'session')),
  ...BY_ID.apiKey.map((op) => unscoped(op, 'apiKey')),
  onResponse('iso-verify-any-environment', ['R-ISO-002'], 'GET /api/v1/verify/{proofRoot} looks in both environments (one shared table of roots).', ['verifyProofRoot'], async (res, req, ctx) =>
    res.status === 404 ? ctx.forward({ ...req, listener: req.listener === 'production' ? 'sandbox' : 'production' }).then((other) => (other.status === 200 ? other : res)) : res,
  ),
  observed({
    id: 'iso-receipts-shared-across-environments',
    rules: ['R-ISO-002'],
    description: 'Receipts and checkpoints live in one table for both environments: a Production key finds the Sandbox\'s by id.',
    async exchange(req, next, ctx) {
      const res = await next(req);
      if (!isOperation(req, 'getReceipt', 'getCheckpoint', 'listCheckpointReceipts') || res.status !== 404 || req.listener !== 'production') return res;
      const testKey = [...table<boolean>(ctx, 'goodKeys').keys()].find((k) => k.startsWith('pk_test_'));
      if (!testKey) return res;
      const other = await next({ ...withApiKey(req, testKey), listener: 'sandbox' });
      return other.status === 200 ? other : res;
    },
  }),
  observed({
    id: 'iso-ledger-keyed-by-customer-only',
    rules: ['R-ISO-003'],
    description: 'Ledgers are keyed by customerId alone: deriving a customer another tenant wrote to shows that tenant\'s ledger.',
    async exchange(req, next, ctx) {
      const owners = table<string>(ctx, 'owners');
      const customer = isOperation(req, 'deriveBalance') ? decodeURIComponent(pathOf(req).split('/').pop()!) : isOperation(req, 'recordDelta') ? json(req)?.customerId : undefined;
      if (isOperation(req, 'recordDelta') && customer && !owners.has(customer)) owners.set(customer, apiKeyOf(req)!);
      const owner = customer && owners.get(customer);
      return next(isOperation(req, 'deriveBalance') && owner ? withApiKey(req, owner) : req);
    },
  }),
  observed({
    id: 'iso-deltas-booked-to-first-tenant',
    rules: ['R-ISO-003'],
    description: 'Deltas are booked to the ledger of whichever tenant first used the customerId, so another tenant\'s delta for it lands in the first tenant\'s ledger.',
    async exchange(req, next, ctx) {
      const owners = table<string>(ctx, 'owners');
      const customer = isOperation(req, 'recordDelta') ? json(req)?.customerId : undefined;
      if (customer && !owners.has(customer)) owners.set(customer, apiKeyOf(req)!);
      const owner = customer && owners.get(customer);
      return next(owner && owner !== apiKeyOf(req) ? withApiKey(req, owner) : req);
    },
  }),
];

// ─── R-SEC ────────────────────────────────────────────────────────────────────────────────

const sec: Mutant[] = [
  keyMutant({
    id: 'sec-key-secret-in-me',
    rules: ['R-SEC-001'],
    description: 'GET /dashboard/auth/me shows the account\'s most recently created key in full ("for the onboarding banner").',
    async exchange(req, next, ctx) {
      const res = await next(req);
      const latest = [...keysById(ctx).values()].at(-1);
      return isOperation(req, 'getCurrentUser') && res.status === 200 && latest ? mapJson(res, (body) => void (body.data.latestKey = latest.fullKey)) : res;
    },
  }),
  onResponse('sec-session-cookie-in-debug-header', ['R-SEC-001'], 'Every Dashboard API response echoes the session cookie in an X-Debug-Session header.', (req) => pathOf(req).startsWith('/dashboard/'), (res, req) => {
    const access = accessOf(req);
    return access ? withHeaders(res, { 'x-debug-session': access }) : res;
  }),
];

export const authAndKeysMutants = defineMutants([...legacy, ...surf, ...auth, ...key, ...iso, ...sec]);

