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
const envOfListener = (req: ProxiedRequest) => (req.listener === 'production' ? 'live' : 'test');
const GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/;
const base62 = (n: number) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % 62]).join('');
};
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
function keyMutant(m: Mutant): Mutant {
  return {
    ...m,
    async exchange(req, next, ctx) {
      const wrapped = async (r: ProxiedRequest) => {
        const res = await next(r);
        learn(r, res, ctx);
        return res;
      };
      return m.exchange!(req, wrapped, ctx);
    },
  };
}

/** A reveal rewritten (create/regenerate): the client sees `shown` instead of the real secret; requests carrying `shown` are mapped back. */
function disguisedSecret(id: string, rules: string[], description: string, disguise: (real: { env: string; publicKey: string; secret: string }) => string): Mutant {
  return keyMutant({
    id,
    rules,
    description,
    async exchange(req, next, ctx) {
      const aliases = table<string>(ctx, 'aliases');
      const presented = apiKeyOf(req);
      const res = await next(presented && aliases.has(presented) ? withApiKey(req, aliases.get(presented)) : req);
      if (!isOperation(req, 'createApiKey', 'regenerateApiKey') || res.status >= 300) return res;
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
      if (isOperation(req, 'toggleApiKey')) {
        const key = await callerSeesKey(req, ctx);
        if (!key) return next(req);
        const active = disabled.get(key.id) ?? !key.active;
        disabled.set(key.id, !active);
        return answer(200, { statusCode: 200, data: { id: key.id, active, message: active ? 'API key has been enabled.' : 'API key has been disabled.' } });
      }
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

export const authAndKeysMutants = defineMutants([...legacy]);

