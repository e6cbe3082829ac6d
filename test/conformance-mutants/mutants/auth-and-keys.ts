// Mutants of the API key rows (R-SURF, R-AUTH, R-KEY, R-OPS, R-ISO, R-SEC): each breaks exactly
// one rule row of conformance/rules/*.ts.
import { defineMutants, json, mapJson, onResponse } from '../mutant.ts';

/** Remembers every key secret the server reveals, by key id (as a server that kept them would). */
const rememberSecrets = onResponse('', [], '', ['createApiKey', 'regenerateApiKey'], (res, _req, ctx) => {
  const d = json(res)?.data;
  if (d?.id && d.secretKey) ctx.memory.set(`secret:${d.id}`, d.secretKey);
  return res;
});

export const authAndKeysMutants = defineMutants([
  {
    id: 'key-secret-in-list',
    rules: ['R-KEY-007'],
    description: 'GET /dashboard/api-keys includes each key\'s secretKey (reveal-once broken).',
    async exchange(req, next, ctx) {
      const res = await rememberSecrets.exchange!(req, next, ctx);
      if (req.method !== 'GET' || !/^\/dashboard\/api-keys(\?|$)/.test(req.url)) return res;
      return mapJson(res, (body) => {
        for (const k of body?.data ?? []) if (ctx.memory.has(`secret:${k.id}`)) k.secretKey = ctx.memory.get(`secret:${k.id}`);
      });
    },
  },
  onResponse('auth-unknown-key-403', ['R-AUTH-002'], 'An unknown or malformed API key gets 403 instead of 401.', (req) => req.url.startsWith('/api/v1/'), (res) =>
    res.status === 401 ? mapJson({ ...res, status: 403 }, (p) => ({ ...p, status: 403 })) : res,
  ),
]);
