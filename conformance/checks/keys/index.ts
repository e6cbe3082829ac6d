// API key format and life cycle (seed 001, PRODUCT.md "Keys"; OWASP API2:2023).
import { defineCheck } from '../../check.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import type { CheckContext } from '../../context.ts';
import type { Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';

const DERIVE = '/api/v1/balance/derive/customer_001';
const GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]+)\.sk_(test|live)_([A-Za-z0-9]+)$/;
/** A 401 that must be indistinguishable from the one for a malformed key (the cause is not told). */
async function expectSameUnauthenticated(ctx: CheckContext, res: Exchange, why: string) {
  expectProblem(res, 401, 'unauthenticated', why);
  const reference = await ctx.api.get(DERIVE, { headers: { 'X-Api-Key': 'not-a-key' } });
  ensure(sameJson(withoutRequestId(res.body), withoutRequestId(reference.body)), `the 401 for ${why} differs from the 401 for a malformed key: the cause must not be told`);
}

/** Bits of randomness a base62 string of this length can carry at most. */
const bits = (s: string) => s.length * Math.log2(62);

export const keyChecks = [
  defineCheck({
    id: 'KEY-001',
    rule: 'A created key matches pk_{env}_{publicId}.sk_{env}_{secret}, both env parts equal the requested environment (test by default), and publicKey/secretKey are its halves.',
    source: 'seed 001 API Key Format; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-format' });
      const m = GRAMMAR.exec(key.fullKey);
      ensure(m, 'fullKey does not match pk_{env}_{publicId}.sk_{env}_{secret} with base62 parts');
      ensure(m[1] === m[3], `the environment parts differ (pk_${m[1]}_ vs sk_${m[3]}_)`);
      ensure(m[1] === 'test' && key.environment === 'test', `a key created without environment must be a test key, got ${m[1]}/${key.environment}`);
      ensure(key.publicKey === `pk_${m[1]}_${m[2]}`, 'publicKey is not the public half of fullKey');
      ensure(key.secretKey === `sk_${m[3]}_${m[4]}`, 'secretKey is not the secret half of fullKey');
    },
  }),
  defineCheck({
    id: 'KEY-002',
    rule: 'Public ids are unique and secrets differ across keys and carry at least 128 bits of randomness.',
    source: 'PRODUCT.md Keys; OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const keys = [];
      for (let i = 0; i < 6; i++) keys.push(await ctx.createKey({ name: `conformance-entropy-${i}` }));
      const ids = new Set(keys.map((k) => k.publicKey));
      ensure(ids.size === keys.length, 'two keys share a public id');
      const secrets = keys.map((k) => GRAMMAR.exec(k.fullKey)?.[4] ?? '');
      ensure(new Set(secrets).size === secrets.length, 'two keys share a secret');
      for (const s of secrets) ensure(bits(s) >= 128, `a secret of ${s.length} base62 characters carries at most ${bits(s).toFixed(0)} bits`);
      // Randomness, not a counter or a shared stem: no two secrets share a long common prefix or suffix.
      for (let i = 0; i < secrets.length; i++) {
        for (let j = i + 1; j < secrets.length; j++) {
          const a = secrets[i]!;
          const b = secrets[j]!;
          let prefix = 0;
          while (prefix < a.length && a[prefix] === b[prefix]) prefix++;
          let suffix = 0;
          while (suffix < a.length && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
          ensure(prefix < 6 && suffix < 6, 'two secrets share a long common prefix or suffix: they are not random');
        }
      }
      const chars = new Set(secrets.join(''));
      ensure(chars.size >= 40, `the secrets use only ${chars.size} distinct characters: they do not look base62-random`);
    },
  }),
  defineCheck({
    id: 'KEY-003',
    rule: 'Regenerate keeps the id and public key, reveals a new secret, and the old secret is rejected at once with the same 401 as any bad key.',
    source: 'seed 001 Regenerate an API Key; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-regenerate' });
      expectStatus(await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(key.fullKey) }), 200, 'the new key before regenerating');
      const dash = await ctx.dashboard();
      const res = await dash.post(`/dashboard/api-keys/${key.id}/regenerate`, { headers: CSRF });
      expectStatus(res, 200, 'regenerate');
      const d = res.body?.data ?? {};
      ctx.secrets.add(d.secretKey, `the regenerated secret of ${key.id}`, res.id);
      ctx.secrets.add(String(d.fullKey ?? '').split('.')[1], `the regenerated secret of ${key.id}`, res.id);
      ensure(d.id === key.id && d.publicKey === key.publicKey, 'regenerate must keep the id and the public key');
      ensure(typeof d.fullKey === 'string' && GRAMMAR.test(d.fullKey) && d.secretKey !== key.secretKey, 'regenerate must reveal a new, well-formed secret');
      await expectSameUnauthenticated(ctx, await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(key.fullKey) }), 'the old secret after regenerating');
      expectStatus(await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(d.fullKey) }), 200, 'the new secret');
    },
  }),
  defineCheck({
    id: 'KEY-004',
    rule: 'A disabled key gets the same 401 as any bad key; enabling it again restores it.',
    source: 'seed 001 Toggle an API Key; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-toggle' });
      const dash = await ctx.dashboard();
      const off = await dash.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF });
      expectStatus(off, 200, 'disable');
      ensure(off.body?.data?.active === false, 'toggle must report active: false after disabling');
      await expectSameUnauthenticated(ctx, await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(key.fullKey) }), 'a disabled key');
      const on = await dash.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF });
      ensure(on.body?.data?.active === true, 'toggle again must report active: true');
      expectStatus(await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(key.fullKey) }), 200, 'the key enabled again');
    },
  }),
  defineCheck({
    id: 'KEY-005',
    rule: 'A deleted key gets the same 401 as any bad key on the Balance API, and 404 in the dashboard.',
    source: 'seed 001 Delete an API Key; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-delete' });
      const dash = await ctx.dashboard();
      expectStatus(await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }), 200, 'delete');
      await expectSameUnauthenticated(ctx, await ctx.api.get(DERIVE, { headers: ctx.keyHeaders(key.fullKey) }), 'a deleted key');
      expectProblem(await dash.get(`/dashboard/api-keys/${key.id}`), 404, 'not_found', 'reading a deleted key');
    },
  }),
  defineCheck({
    id: 'KEY-006',
    rule: 'A valid key lacking the operation\'s permission gets 403 insufficient_permission and changes nothing.',
    source: 'seed 000 Error Responses (403); PRODUCT.md Keys; OWASP API5:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-read-only', permissions: ['balance:read'] });
      const customer = `conformance-perm-${Date.now().toString(36)}`;
      expectStatus(await ctx.api.get(`/api/v1/balance/derive/${customer}`, { headers: ctx.keyHeaders(key.fullKey) }), 200, 'a read with balance:read');
      const write = await ctx.api.post('/api/v1/balance/delta', {
        headers: ctx.keyHeaders(key.fullKey),
        json: { customerId: customer, delta: '1.00', reason: 'conformance' },
      });
      expectProblem(write, 403, 'insufficient_permission', 'recording a delta with a read-only key');
      const after = await ctx.api.get(`/api/v1/balance/derive/${customer}`, { headers: ctx.keyHeaders(key.fullKey) });
      ensure(after.body?.data?.deltaCount === 0, 'the refused write was recorded anyway');
    },
  }),
  defineCheck({
    id: 'REVEAL-001',
    rule: 'List, get, toggle and delete responses never contain secretKey or fullKey.',
    source: 'seed 001 (secretKey is never returned in list responses); PRODUCT.md reveal-once',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-reveal' });
      const dash = await ctx.dashboard();
      const responses = [
        await dash.get('/dashboard/api-keys?page=1&limit=100'),
        await dash.get(`/dashboard/api-keys/${key.id}`),
        await dash.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF }),
        await dash.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF }),
        await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }),
      ];
      for (const res of responses) {
        expectStatus(res, 200, `${res.method} ${res.path}`);
        ensure(!/"(secretKey|fullKey|secret)"\s*:/.test(res.text), `${res.method} ${res.path} has a secretKey/fullKey property`);
        ensure(!res.text.includes(key.secretKey.slice(8)), `${res.method} ${res.path} contains the key's secret`);
      }
    },
  }),
];
