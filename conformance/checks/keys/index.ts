// API key format and life cycle (seed 001, PRODUCT.md "Keys"; OWASP API2:2023): every state a
// key can be in (created, regenerated, disabled, enabled again, deleted), tried on a read and
// a write of the Balance API and read back from the dashboard (get and list).
import { defineCheck } from '../../check.ts';
import { CSRF } from '../../context.ts';
import type { CheckContext, CreatedKey } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Client } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import {
  GRAMMAR,
  deltaCount,
  expectNothingRecorded,
  expectSameUnauthenticated,
  freshCustomer,
  listKeys,
  readKey,
  readWith,
  recordRegenerated,
  regenerate,
  toggle,
  writeWith,
} from '../auth/support.ts';

/** Bits of randomness a base62 string of this length can carry at most. */
const bits = (s: string) => s.length * Math.log2(62);

/** The key is refused with the 401 of a malformed key on a read and a write, and the write records nothing. */
async function expectRefused(ctx: CheckContext, key: string, why: string) {
  await expectSameUnauthenticated(ctx, await readWith(ctx, key), `a read with ${why}`);
  const customer = freshCustomer('refused');
  await expectSameUnauthenticated(ctx, await writeWith(ctx, key, customer), `a write with ${why}`);
  await expectNothingRecorded(ctx, customer, `a write with ${why}`);
}

/** The key authenticates a read and (when it may write) a write. */
async function expectAccepted(ctx: CheckContext, key: string, why: string, canWrite = true) {
  expectStatus(await readWith(ctx, key), 200, `a read with ${why}`);
  if (canWrite) expectStatus(await writeWith(ctx, key, freshCustomer('accepted')), 201, `a write with ${why}`);
}

/** The key's `active` as GET and the list show it (they must agree). */
async function shownActive(dash: Client, id: string, why: string) {
  const got = await readKey(dash, id, why);
  const listed = (await listKeys(dash)).items.find((k) => k.id === id);
  ensure(listed, `the key is missing from the list (${why})`);
  ensure(listed.active === got.active, `GET says active: ${got.active}, the list says active: ${listed.active} (${why})`);
  return got.active;
}

/** Checks a revealed full key against the grammar: both env parts equal `env`, halves as given. */
function expectWellFormed(d: { fullKey?: string; publicKey?: string; secretKey?: string }, env: string, what: string) {
  const m = GRAMMAR.exec(d.fullKey ?? '');
  ensure(m, `${what}: fullKey does not match pk_{env}_{publicId}.sk_{env}_{secret} with base62 parts`);
  ensure(m[1] === m[3], `${what}: the environment parts differ (pk_${m[1]}_ vs sk_${m[3]}_)`);
  ensure(m[1] === env, `${what}: a ${env} key is pk_${m[1]}_`);
  ensure(d.publicKey === `pk_${m[1]}_${m[2]}`, `${what}: publicKey is not the public half of fullKey`);
  ensure(d.secretKey === `sk_${m[3]}_${m[4]}`, `${what}: secretKey is not the secret half of fullKey`);
}

/** The members a regenerate keeps. */
const kept = (k: any) => ({ id: k?.id, name: k?.name, environment: k?.environment, publicKey: k?.publicKey, permissions: [...(k?.permissions ?? [])].sort(), active: k?.active });

export const keyChecks = [
  defineCheck({
    id: 'KEY-001',
    rule: 'A created or regenerated key matches pk_{env}_{publicId}.sk_{env}_{secret}, both env parts equal the key\'s environment (test by default), and publicKey/secretKey are its halves.',
    source: 'seed 001 API Key Format; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-format' });
      ensure(key.environment === 'test', `a key created without environment must be a test key, got ${key.environment}`);
      expectWellFormed(key, 'test', 'the create response');
      // The key reads back (get and list) as it was created: same id, name, environment, public key.
      const dash = await ctx.dashboard();
      const shown = (k: any) => ({ id: k?.id, name: k?.name, environment: k?.environment, publicKey: k?.publicKey, permissions: [...(k?.permissions ?? [])].sort(), createdAt: k?.createdAt });
      const created = shown(key.exchange.body?.data);
      ensure(sameJson(shown(await readKey(dash, key.id, 'reading the new key')), created), 'GET /dashboard/api-keys/{id} shows the key otherwise than the create response');
      ensure(sameJson(shown((await listKeys(dash)).items.find((k) => k.id === key.id)), created), 'the list shows the key otherwise than the create response (or not at all)');
      const res = await regenerate(dash, key.id);
      expectStatus(res, 200, 'regenerate');
      const d = recordRegenerated(ctx, res);
      expectWellFormed(d, 'test', 'the regenerate response');
      ensure(d.publicKey === key.publicKey, 'regenerate changed the public key');
    },
  }),
  defineCheck({
    id: 'KEY-002',
    rule: 'Public ids are unique, and created and regenerated secrets differ across keys and carry at least 128 bits of randomness.',
    source: 'PRODUCT.md Keys; OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const keys = [];
      for (let i = 0; i < 6; i++) keys.push(await ctx.createKey({ name: `conformance-entropy-${i}` }));
      const ids = new Set(keys.map((k) => k.publicKey));
      ensure(ids.size === keys.length, 'two keys share a public id');
      // Regenerated secrets come from the same rule: two of them join the sample.
      const dash = await ctx.dashboard();
      const regenerated = [];
      for (const k of keys.slice(0, 2)) {
        const res = await regenerate(dash, k.id);
        expectStatus(res, 200, 'regenerate');
        regenerated.push(recordRegenerated(ctx, res).fullKey);
      }
      const secrets = [...keys.map((k) => k.fullKey), ...regenerated].map((full) => GRAMMAR.exec(full ?? '')?.[4] ?? '');
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
    rule: 'Regenerate keeps the id, public key, name, environment, permissions and active state (also of a disabled key), reveals a new secret, and every earlier secret gets the 401 of a malformed key at once, on reads and writes.',
    source: 'seed 001 Regenerate an API Key; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      // Read-only, so that "permissions kept" shows on the Balance API too.
      const key = await ctx.createKey({ name: 'conformance-regenerate', permissions: ['balance:read'] });
      const dash = await ctx.dashboard();
      expectStatus(await readWith(ctx, key.fullKey), 200, 'the new key before regenerating');
      const before = await readKey(dash, key.id, 'reading the key before regenerating');
      const res = await regenerate(dash, key.id);
      expectStatus(res, 200, 'regenerate');
      const d = recordRegenerated(ctx, res);
      ensure(d.id === key.id && d.publicKey === key.publicKey, 'regenerate must keep the id and the public key');
      ensure(typeof d.fullKey === 'string' && GRAMMAR.test(d.fullKey) && d.secretKey !== key.secretKey, 'regenerate must reveal a new, well-formed secret');
      const after = await readKey(dash, key.id, 'reading the key after regenerating');
      ensure(sameJson(kept(after), kept(before)), 'regenerate changed the key\'s name, environment, permissions or active state');
      await expectRefused(ctx, key.fullKey, 'the old secret after regenerating');
      expectStatus(await readWith(ctx, d.fullKey), 200, 'a read with the new secret');
      expectProblem(await writeWith(ctx, d.fullKey, freshCustomer('regen')), 403, 'insufficient_permission', 'a write with the new secret of a read-only key');
      // A disabled key stays disabled through a regenerate; enabling it brings back only the newest secret.
      expectStatus(await toggle(dash, key.id), 200, 'disabling the key');
      const again = await regenerate(dash, key.id);
      expectStatus(again, 200, 'regenerating a disabled key');
      const newest = recordRegenerated(ctx, again);
      ensure((await readKey(dash, key.id, 'reading the regenerated disabled key')).active === false, 'regenerating a disabled key enabled it');
      await expectRefused(ctx, newest.fullKey, 'the new secret of a disabled key');
      expectStatus(await toggle(dash, key.id), 200, 'enabling the key');
      expectStatus(await readWith(ctx, newest.fullKey), 200, 'the newest secret once enabled');
      for (const [old, why] of [[key.fullKey, 'the first secret'], [d.fullKey, 'the second secret']] as const) {
        await expectSameUnauthenticated(ctx, await readWith(ctx, old), `${why} after two regenerations`);
      }
    },
  }),
  defineCheck({
    id: 'KEY-004',
    rule: 'Toggle disables an active key (active: false, "API key has been disabled.", shown in get and list) so it gets the 401 of a malformed key on reads and writes; toggling again enables it (active: true, "API key has been enabled.") with the same secret.',
    source: 'seed 001 Toggle an API Key; openapi #/components/schemas/ApiKeyToggled; PRODUCT.md Keys',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-toggle' });
      const dash = await ctx.dashboard();
      ensure(key.exchange.body?.data?.active === true, 'a new key is not active');
      const off = await toggle(dash, key.id);
      expectStatus(off, 200, 'disable');
      ensure(off.body?.data?.id === key.id && off.body?.data?.active === false, 'toggle must report the key\'s id and active: false after disabling');
      ensure(off.body?.data?.message === 'API key has been disabled.', `disabling says "${off.body?.data?.message}", not "API key has been disabled."`);
      ensure((await shownActive(dash, key.id, 'after disabling')) === false, 'the dashboard shows a disabled key as active');
      await expectRefused(ctx, key.fullKey, 'a disabled key');
      const on = await toggle(dash, key.id);
      expectStatus(on, 200, 'enable');
      ensure(on.body?.data?.id === key.id && on.body?.data?.active === true, 'toggle again must report the key\'s id and active: true');
      ensure(on.body?.data?.message === 'API key has been enabled.', `enabling says "${on.body?.data?.message}", not "API key has been enabled."`);
      ensure((await shownActive(dash, key.id, 'after enabling')) === true, 'the dashboard shows an enabled key as disabled');
      await expectAccepted(ctx, key.fullKey, 'the key enabled again (same secret)');
    },
  }),
  defineCheck({
    id: 'KEY-005',
    rule: 'A deleted key gets the 401 of a malformed key on reads and writes, is 404 on get, is gone from the list, and toggle, regenerate and delete of it are 404 not_found.',
    source: 'seed 001 Delete an API Key; PRODUCT.md Keys; openapi op deleteApiKey',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const key = await ctx.createKey({ name: 'conformance-delete' });
      const dash = await ctx.dashboard();
      expectStatus(await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }), 200, 'delete');
      await expectRefused(ctx, key.fullKey, 'a deleted key');
      expectProblem(await dash.get(`/dashboard/api-keys/${key.id}`), 404, 'not_found', 'reading a deleted key');
      ensure(!(await listKeys(dash)).items.some((k) => k.id === key.id), 'a deleted key is still listed');
      expectProblem(await toggle(dash, key.id), 404, 'not_found', 'toggling a deleted key');
      expectProblem(await regenerate(dash, key.id), 404, 'not_found', 'regenerating a deleted key');
      expectProblem(await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }), 404, 'not_found', 'deleting a deleted key again');
      await expectSameUnauthenticated(ctx, await readWith(ctx, key.fullKey), 'a deleted key after the refused toggle and regenerate');
    },
  }),
  defineCheck({
    id: 'KEY-006',
    rule: 'balance:read allows derive, compare and reading receipts and checkpoints; balance:write allows recording deltas and creating checkpoints; a key lacking the permission gets 403 insufficient_permission and changes nothing; a key created without permissions has both.',
    source: 'seed 000 Error Responses (403); PRODUCT.md Keys; openapi #/components/schemas/ApiKeyPermission; OWASP API5:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const both = await ctx.createKey({ name: 'conformance-default-permissions' });
      const bothPermissions = ['balance:read', 'balance:write'];
      ensure(sameJson([...both.permissions].sort(), bothPermissions), `a key created without permissions has ${JSON.stringify(both.permissions)} in the create response`);
      ensure(sameJson([...((await readKey(dash, both.id, 'reading the default key')).permissions ?? [])].sort(), bothPermissions), 'a key created without permissions lacks one in GET /dashboard/api-keys/{id}');
      const readOnly = await ctx.createKey({ name: 'conformance-read-only', permissions: ['balance:read'] });
      const writeOnly = await ctx.createKey({ name: 'conformance-write-only', permissions: ['balance:write'] });
      const customer = freshCustomer('perm');
      const headers = (k: CreatedKey) => ctx.keyHeaders(k.fullKey);
      const delta = (k: CreatedKey) => ctx.api.post('/api/v1/balance/delta', { headers: headers(k), json: { customerId: customer, delta: '1.00', reason: 'conformance' } });
      const checkpoint = (k: CreatedKey) => ctx.api.post('/api/v1/balance/checkpoint', { headers: headers(k), json: { customerId: customer } });
      const first = await delta(both);
      expectStatus(first, 201, 'recording a delta with a key of both permissions');
      expectStatus(await readWith(ctx, both.fullKey, customer), 200, 'a read with a key of both permissions');
      expectStatus(await delta(writeOnly), 201, 'recording a delta with balance:write');
      const cp = await checkpoint(writeOnly);
      expectStatus(cp, 201, 'creating a checkpoint with balance:write');
      const receiptId = first.body?.data?.receiptId;
      const checkpointId = cp.body?.data?.checkpointId ?? cp.body?.data?.id;
      const reads: Array<[string, (k: CreatedKey) => ReturnType<typeof readWith>]> = [
        ['derive', (k) => readWith(ctx, k.fullKey, customer)],
        ['compare', (k) => ctx.api.post('/api/v1/balance/compare', { headers: headers(k), json: { customerId: customer, yourBalance: '2.00', theirBalance: '2.00', startingBalance: '0' } })],
        ['reading a receipt', (k) => ctx.api.get(`/api/v1/receipts/${receiptId}`, { headers: headers(k) })],
        ['reading a checkpoint', (k) => ctx.api.get(`/api/v1/checkpoints/${checkpointId}`, { headers: headers(k) })],
        ['listing a checkpoint\'s receipts', (k) => ctx.api.get(`/api/v1/checkpoints/${checkpointId}/receipts`, { headers: headers(k) })],
      ];
      for (const [what, send] of reads) {
        expectStatus(await send(readOnly), 200, `${what} with balance:read`);
        expectProblem(await send(writeOnly), 403, 'insufficient_permission', `${what} with only balance:write`);
      }
      const state = async () => (await readWith(ctx, both.fullKey, customer)).body?.data;
      const before = await state();
      expectProblem(await delta(readOnly), 403, 'insufficient_permission', 'recording a delta with only balance:read');
      expectProblem(await checkpoint(readOnly), 403, 'insufficient_permission', 'creating a checkpoint with only balance:read');
      const after = await state();
      ensure(after?.deltaCount === 2 && sameJson(after, before), `the refused writes changed the ledger (deltaCount ${before?.deltaCount} → ${after?.deltaCount}, last checkpoint ${before?.lastCheckpoint?.checkpointId ?? 'none'} → ${after?.lastCheckpoint?.checkpointId ?? 'none'})`);
      ensure((await deltaCount(ctx, customer, both.fullKey)) === 2, 'the ledger does not have the two accepted deltas');
    },
  }),
  defineCheck({
    id: 'KEY-007',
    rule: 'A live key can be created only once the mainnet environment is active: before, it is 409 environment_not_active and nothing is created; after, it is a pk_live_ key.',
    source: 'PRODUCT.md Keys; openapi op createApiKey',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const envs = await dash.get('/dashboard/environments');
      expectStatus(envs, 200, 'listing environments');
      const mainnet = (envs.body?.data ?? []).find((e: any) => e.environment === 'mainnet');
      ensure(mainnet, 'GET /dashboard/environments has no mainnet environment');
      if (mainnet.status === 'active') {
        const key = await ctx.createKey({ name: 'conformance-live', environment: 'live' });
        ensure(key.environment === 'live' && key.fullKey.startsWith('pk_live_'), 'a live key created with mainnet active is not a pk_live_ key');
        // Environment routing, the other way round from AUTH-005: a live key at the Sandbox URL.
        const sandbox = ctx.keyEnvironment === 'live' ? ctx.other : ctx.api;
        if (sandbox) await expectSameUnauthenticated(ctx, await readWith(ctx, key.fullKey, 'customer_001', sandbox), 'a pk_live_ key at the Sandbox URL', sandbox);
        return;
      }
      const name = `conformance-live-refused-${ctx.runTag}`;
      const res = await dash.post('/dashboard/api-keys', { headers: CSRF, json: { name, environment: 'live' } });
      if (res.status === 201 && typeof res.body?.data?.id === 'string') ctx.track('api key', res.body.data.id, name, () => dash.delete(`/dashboard/api-keys/${res.body.data.id}`, { headers: CSRF }));
      expectProblem(res, 409, 'environment_not_active', `creating a live key while mainnet is ${mainnet.status}`);
      ensure(!(await listKeys(dash)).items.some((k) => k.name === name), 'the refused live key was created anyway');
    },
  }),
  defineCheck({
    id: 'REVEAL-001',
    rule: 'List (every page), get, toggle, delete and refused (404) responses never contain secretKey, fullKey or the key\'s secret.',
    source: 'seed 001 (secretKey is never returned in list responses); PRODUCT.md reveal-once',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      // Two keys, so that whatever the list order, one of them is on a page after the first.
      const other = await ctx.createKey({ name: 'conformance-reveal-paged' });
      const key = await ctx.createKey({ name: 'conformance-reveal' });
      const dash = await ctx.dashboard();
      const { pages } = await listKeys(dash, 1);
      const responses = [
        ...pages,
        await dash.get(`/dashboard/api-keys?page=1&limit=100`),
        await dash.get(`/dashboard/api-keys/${key.id}`),
        await toggle(dash, key.id),
        await toggle(dash, key.id),
        await dash.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF }),
      ];
      for (const res of responses) expectStatus(res, 200, `${res.method} ${res.path}`);
      responses.push(await dash.get(`/dashboard/api-keys/${key.id}`));
      for (const res of responses) {
        ensure(!/"(secretKey|fullKey|secret)"\s*:/.test(res.text), `${res.method} ${res.path} has a secretKey/fullKey property`);
        for (const k of [key, other]) {
          const secret = k.secretKey.slice(8);
          ensure(!res.text.includes(secret) && !JSON.stringify(res.headers).includes(secret), `${res.method} ${res.path} contains the secret of key ${k.id}`);
        }
      }
    },
  }),
];
