// Balance API authentication (seed 000 "Error Responses", seed 002 "Auth Error Handling",
// PRODUCT.md "Keys"; OWASP API2:2023 Broken Authentication), and which surface takes which
// credential.
import { randomBytes } from 'node:crypto';
import { defineCheck } from '../../check.ts';
import { CSRF } from '../../context.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { loadContract } from '../../lib/contract.ts';
import { createClient, type Exchange } from '../../lib/http.ts';
import { sameInstant, sameJson } from '../../lib/json.ts';
import { DERIVE, comparableProblem, deltaCount, pollUntil, expectNothingRecorded, expectSameUnauthenticated, freshCustomer, listKeys, readKey, readWith, writeWith } from './support.ts';

/** Every shape of bad key a client could send instead of the right one. */
function badKeys(key: string, env: 'test' | 'live') {
  const [pub = '', sec = ''] = key.split('.');
  const other = env === 'test' ? 'live' : 'test';
  const flipped = sec.slice(0, -1) + (sec.endsWith('A') ? 'B' : 'A');
  return {
    'empty header': '',
    malformed: 'not-a-key',
    'public half only': pub,
    'secret half only': sec,
    'trailing period': `${pub}.`,
    'an extra period': `${key}.x`,
    'halves joined by a space': `${pub} ${sec}`,
    'a space inside': `${pub}. ${sec}`,
    'upper-case prefix': key.replace(/^pk_/, 'PK_').replace('.sk_', '.SK_'),
    'upper-case environment': key.replace(`pk_${env}_`, `pk_${env.toUpperCase()}_`).replace(`.sk_${env}_`, `.sk_${env.toUpperCase()}_`),
    'no underscore after the prefix': key.replace(`pk_${env}_`, `pk${env}_`).replace(`.sk_${env}_`, `.sk${env}_`),
    'huge (4 KiB)': `pk_${env}_${'a'.repeat(2000)}.sk_${env}_${'b'.repeat(2000)}`,
    'secret half of the other environment': `${pub}.${sec.replace(`sk_${env}_`, `sk_${other}_`)}`,
    'public half of the other environment': `${pub.replace(`pk_${env}_`, `pk_${other}_`)}.${sec}`,
    'unknown public id': `pk_${env}_Zz9${'x'.repeat(13)}.sk_${env}_${'y'.repeat(32)}`,
    'unknown key of the other environment': `pk_${other}_Zz9${'x'.repeat(13)}.sk_${other}_${'y'.repeat(32)}`,
    'wrong secret': `${pub}.sk_${env}_${'A'.repeat(32)}`,
    'secret with its last character changed': `${pub}.${flipped}`,
  } as Record<string, string>;
}

/** A path template filled with well-formed ids (`key_…`, `wh_…`, `tnt_…`) from its parameters' patterns. */
function fillPath(path: string, parameters: any[] = [], deref: (n: any) => any) {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const param = parameters.map(deref).find((p: any) => p?.in === 'path' && p.name === name);
    const pattern = String(deref(param?.schema ?? {})?.pattern ?? '');
    const prefix = /^\^([a-z]+_)/.exec(pattern)?.[1] ?? '';
    return `${prefix}Conformance0000`;
  });
}

export const authChecks = [
  defineCheck({
    id: 'AUTH-001',
    rule: 'A Balance API request without X-Api-Key is answered 401 unauthenticated, for reads and writes, and a refused write records nothing.',
    source: 'seed 000 Error Responses; OWASP API2:2023',
    needs: [],
    async run(ctx) {
      expectProblem(await ctx.api.get(DERIVE), 401, 'unauthenticated', 'a read without a key');
      const customer = freshCustomer('nokey');
      expectProblem(await writeWith(ctx, undefined, customer), 401, 'unauthenticated', 'a write without a key');
      expectProblem(await ctx.api.post('/api/v1/balance/checkpoint', { json: { customerId: customer } }), 401, 'unauthenticated', 'a checkpoint without a key');
      if (ctx.config.apiKey) await expectNothingRecorded(ctx, customer, 'a delta without a key');
    },
  }),
  defineCheck({
    id: 'AUTH-002',
    rule: 'Missing, malformed, unknown, wrong-secret and mixed-environment keys get 401 unauthenticated, with one and the same body whatever the cause, on reads and writes; the refused writes record nothing.',
    source: 'seed 000 Error Responses; openapi #/components/securitySchemes/ApiKeyAuth; OWASP API2:2023',
    needs: ['apiKey'],
    async run(ctx) {
      const variants = Object.entries(badKeys(ctx.config.apiKey!, ctx.keyEnvironment ?? 'test'));
      const customer = freshCustomer('badkey');
      const operations = [
        ['a read', (key: string | undefined) => ctx.api.get(DERIVE, { headers: key === undefined ? {} : { 'X-Api-Key': key } })],
        ['a write', (key: string | undefined) => writeWith(ctx, key, customer)],
      ] as const;
      // Every shape on a read; on a write, one of each cause (the gate is the same for both).
      const onWrites = new Set(['malformed', 'public half only', 'secret half of the other environment', 'unknown public id', 'wrong secret']);
      for (const [what, send] of operations) {
        const missing = await send(undefined);
        expectProblem(missing, 401, 'unauthenticated', `${what} without a key`);
        for (const [name, value] of variants) {
          if (what === 'a write' && !onWrites.has(name)) continue;
          const res = await send(value);
          expectProblem(res, 401, 'unauthenticated', `${what} with a key: ${name}`);
          ensure(sameJson(comparableProblem(res.body), comparableProblem(missing.body)), `the 401 for ${what} with a key (${name}) differs from the 401 without a key: the cause must not be told`);
        }
      }
      await expectNothingRecorded(ctx, customer, 'every write with a bad key');
    },
  }),
  defineCheck({
    id: 'AUTH-003',
    rule: 'The --api-key in X-Api-Key authenticates a Balance API read.',
    source: 'seed 000 Making Requests',
    needs: ['apiKey'],
    async run(ctx) {
      expectStatus(await ctx.api.get(DERIVE, { headers: ctx.keyHeaders() }), 200, 'derive with the given key');
    },
  }),
  defineCheck({
    id: 'AUTH-004',
    rule: 'A key sent in the query string instead of X-Api-Key is not accepted, for reads and writes, and the refused write records nothing.',
    source: 'seed 002 Agent Credential Storage; OWASP API2:2023',
    needs: ['apiKey'],
    async run(ctx) {
      const key = encodeURIComponent(ctx.config.apiKey!);
      const customer = freshCustomer('query');
      for (const name of ['api_key', 'apiKey', 'key', 'X-Api-Key', 'access_token']) {
        expectProblem(await ctx.api.get(`${DERIVE}?${name}=${key}`), 401, 'unauthenticated', `a read with the key in ?${name}=`);
      }
      for (const name of ['api_key', 'apiKey']) {
        expectProblem(await writeWith(ctx, undefined, customer, ctx.api, `/api/v1/balance/delta?${name}=${key}`), 401, 'unauthenticated', `a write with the key in ?${name}=`);
      }
      // Nor does the query string win over a bad header.
      expectProblem(await ctx.api.get(`${DERIVE}?api_key=${key}`, { headers: { 'X-Api-Key': 'not-a-key' } }), 401, 'unauthenticated', 'a malformed X-Api-Key with the key in ?api_key=');
      await expectNothingRecorded(ctx, customer, 'a write with the key in the query string');
    },
  }),
  defineCheck({
    id: 'AUTH-005',
    rule: 'A key of this environment is rejected at the other environment\'s base URL, for reads and writes, with the 401 a malformed key gets there.',
    source: 'seed 002 Environment Routing; PRODUCT.md Keys',
    needs: ['apiKey', 'otherEnv'],
    async run(ctx) {
      const other = ctx.other!;
      await expectSameUnauthenticated(ctx, await readWith(ctx, ctx.config.apiKey!, 'customer_001', other), 'a read with a key of the other environment', other);
      const customer = freshCustomer('otherenv');
      await expectSameUnauthenticated(ctx, await writeWith(ctx, ctx.config.apiKey!, customer, other), 'a write with a key of the other environment', other);
      await expectNothingRecorded(ctx, customer, 'a write at the other environment');
    },
  }),
  defineCheck({
    id: 'AUTH-006',
    rule: 'GET /api/v1/verify/{proofRoot} needs no key: an unknown root is 404, never 401.',
    source: 'seed 002 Public Verification',
    needs: [],
    async run(ctx) {
      expectProblem(await ctx.api.get(`/api/v1/verify/${'0'.repeat(64)}`), 404, 'not_found', 'verify without a key');
    },
  }),
  defineCheck({
    id: 'AUTH-007',
    rule: 'Every Dashboard operation of the contract but the public ones answers 401 unauthenticated without a session (and a forged session cookie is none); the public ones (login, register, verify, resend-verification-email, request-password-reset, reset-password, request-access) do not ask for one.',
    source: 'seed 000 Public Endpoints; PRODUCT.md Surfaces and auth; OWASP API5:2023',
    needs: ['dashboard'],
    async run(ctx) {
      const { operations, doc } = loadContract();
      const deref = (n: any) => (n && typeof n.$ref === 'string' ? n.$ref.slice(2).split('/').reduce((a: any, k: string) => a?.[k], doc) : n);
      // A client of its own: no cookie of the run's session goes with these requests.
      const anonymous = createClient(ctx.recorder, ctx.config.dashboardUrl!);
      const publicOps = ['login', 'register', 'verifyEmail', 'resendVerificationEmail', 'requestPasswordReset', 'resetPassword', 'requestAccess'];
      const dashboardOps = operations.filter((o) => o.path.startsWith('/dashboard/'));
      const documentedPublic = dashboardOps.filter((o) => !(o.operation.security ?? doc.security ?? []).length).map((o) => o.operation.operationId);
      ensure(sameJson([...documentedPublic].sort(), [...publicOps].sort()), `the contract's public dashboard operations (${documentedPublic.join(', ')}) are not the seed's list`);
      for (const o of dashboardOps) {
        const path = fillPath(o.path, [...(o.operation.parameters ?? [])], deref);
        const res = await anonymous.send(o.method, path, { headers: { ...CSRF }, ...(o.method === 'GET' || o.method === 'DELETE' ? {} : { json: {} }) });
        if (publicOps.includes(o.operation.operationId)) ensure(res.status !== 401, `${o.method} ${o.path} is public, yet answered 401 without a session`);
        else expectProblem(res, 401, 'unauthenticated', `${o.method} ${o.path} without a session`);
      }
      // A session cookie the target never issued is no session either.
      const forged = `pacspace_access=${randomBytes(32).toString('base64url')}`;
      for (const path of ['/dashboard/auth/me', '/dashboard/api-keys', '/dashboard/billing']) {
        expectProblem(await anonymous.get(path, { headers: { cookie: forged } }), 401, 'unauthenticated', `GET ${path} with a session cookie the target never issued`);
      }
    },
  }),
  defineCheck({
    id: 'AUTH-008',
    rule: 'Two keys of one environment authenticate at the same time (rotation without downtime): the new key works beside the old, and deleting the old one leaves the new one working.',
    source: 'seed 000 Both keys remain active; seed 002 Rotating Keys',
    needs: ['apiKey', 'dashboard', 'writes'],
    async run(ctx) {
      const env = ctx.keyEnvironment ?? 'test';
      const old = await ctx.createKey({ name: 'conformance-rotate-old', environment: env });
      const customer = freshCustomer('rotate');
      expectStatus(await writeWith(ctx, old.fullKey, customer), 201, 'a write with the old key');
      const fresh = await ctx.createKey({ name: 'conformance-rotate-new', environment: env });
      expectStatus(await writeWith(ctx, fresh.fullKey, customer), 201, 'a write with the new key while the old one is active');
      expectStatus(await writeWith(ctx, old.fullKey, customer), 201, 'a write with the old key after the new one was created');
      expectStatus(await readWith(ctx, ctx.config.apiKey!, customer), 200, 'a read with the --api-key beside both');
      const dash = await ctx.dashboard();
      expectStatus(await dash.delete(`/dashboard/api-keys/${old.id}`, { headers: CSRF }), 200, 'deleting the old key');
      expectStatus(await writeWith(ctx, fresh.fullKey, customer), 201, 'a write with the new key after the old one was deleted');
      const count = await deltaCount(ctx, customer);
      ensure(count === 4, `four writes with the two keys were accepted, yet the ledger has ${count} deltas`);
    },
  }),
  defineCheck({
    id: 'AUTH-009',
    rule: 'A key\'s lastUsedAt is null until it authenticates a Balance API request of any kind (a write, a derive, a compare; a request with its public id and a wrong secret does not count) — in the create response, get and list — then a time not before createdAt, the same in get and list.',
    source: 'openapi #/components/schemas/ApiKey',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      // One fresh key per kind of Balance API request, so each is seen to set lastUsedAt on its own.
      const uses: Array<[string, (key: string) => Promise<Exchange>, number]> = [
        ['a write (record a delta)', (key) => writeWith(ctx, key, freshCustomer('last-used')), 201],
        ['a derive', (key) => readWith(ctx, key), 200],
        ['a compare', (key) => ctx.api.post('/api/v1/balance/compare', { headers: ctx.keyHeaders(key), json: { yourBalance: '1.00', theirBalance: '1.00' } }), 200],
      ];
      await Promise.all(uses.map(async ([what, use, status], i) => {
        const key = await ctx.createKey({ name: `conformance-last-used-${i + 1}` });
        const created = key.exchange.body?.data;
        ensure(created?.lastUsedAt === null, `a new key's lastUsedAt is ${JSON.stringify(created?.lastUsedAt)} in the create response, not null`);
        const find = async () => (await listKeys(dash)).items.find((k) => k.id === key.id);
        ensure((await readKey(dash, key.id, 'reading the new key')).lastUsedAt === null, 'a key never used has a lastUsedAt in GET /dashboard/api-keys/{id}');
        ensure((await find())?.lastUsedAt === null, 'a key never used has a lastUsedAt in the list');
        // Its public id with a wrong secret authenticates nothing, so it sets nothing.
        const [pub = '', sec = ''] = key.fullKey.split('.');
        expectProblem(await use(`${pub}.${sec.slice(0, -1)}${sec.endsWith('A') ? 'B' : 'A'}`), 401, 'unauthenticated', `${what} with the key's public id and a wrong secret`);
        ensure((await readKey(dash, key.id, 'reading the key after a wrong secret')).lastUsedAt === null, `a request with the key's public id and a wrong secret (${what}) set its lastUsedAt: only a request the key authenticates does`);
        expectStatus(await use(key.fullKey), status, `using the key for ${what}`);
        // Set when the key authenticates; a server may record it a moment later, so it is polled for.
        const got = await pollUntil(ctx, () => readKey(dash, key.id, 'reading the used key'), (k) => k?.lastUsedAt !== null);
        ensure(got.lastUsedAt !== null, `a key that authenticated ${what} still has lastUsedAt null: it is set by any Balance API request the key authenticates`);
        ensure(typeof got.lastUsedAt === 'string' && !Number.isNaN(Date.parse(got.lastUsedAt)), 'a used key\'s lastUsedAt is not a time');
        ensure(Date.parse(got.lastUsedAt) >= Date.parse(got.createdAt), 'a used key\'s lastUsedAt is before its createdAt');
        ensure(sameInstant((await find())?.lastUsedAt, got.lastUsedAt), 'the list shows another lastUsedAt than GET /dashboard/api-keys/{id}');
      }));
    },
  }),
  defineCheck({
    id: 'AUTH-011',
    rule: 'The dashboard session (its cookies, with the CSRF header, or its access token as a bearer) does not authenticate Balance API reads or writes: 401 unauthenticated, and the refused write records nothing.',
    source: 'seed 000 Which Auth Method Should I Use; PRODUCT.md Surfaces and auth',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const cookie = [...dash.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      ensure(cookie, 'the dashboard login set no cookie');
      const customer = freshCustomer('session');
      const credentials: Array<[string, Record<string, string>]> = [
        ['the session cookies', { cookie, ...CSRF }],
        ...[...dash.jar].map(([name, value]): [string, Record<string, string>] => [`the ${name} cookie's value as a bearer token`, { Authorization: `Bearer ${value}` }]),
      ];
      for (const [what, headers] of credentials) {
        expectProblem(await ctx.api.get(DERIVE, { headers }), 401, 'unauthenticated', `a Balance API read with ${what}`);
        expectProblem(await ctx.api.post('/api/v1/balance/delta', { headers, json: { customerId: customer, delta: '1.00', reason: 'conformance' } }), 401, 'unauthenticated', `a Balance API write with ${what}`);
      }
      await expectNothingRecorded(ctx, customer, 'a Balance API write with dashboard credentials');
    },
  }),
  defineCheck({
    id: 'AUTH-010',
    rule: 'GET /dashboard/environments maps testnet to key environment test and mainnet to live, and gives as apiBaseUrl of each the base URL its keys work at.',
    source: 'PRODUCT.md Keys; openapi op listEnvironments; seed 003 Step 3',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const res = await (await ctx.dashboard()).get('/dashboard/environments');
      expectStatus(res, 200, 'listing environments');
      const list: any[] = res.body?.data ?? [];
      const byNetwork = new Map(list.map((e) => [e.environment, e]));
      ensure(byNetwork.get('testnet')?.keyEnvironment === 'test', 'the testnet environment does not have keyEnvironment test');
      ensure(byNetwork.get('mainnet')?.keyEnvironment === 'live', 'the mainnet environment does not have keyEnvironment live');
      const same = (a: string | undefined, b: string) => typeof a === 'string' && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
      const env = ctx.keyEnvironment ?? 'test';
      const mine = list.find((e) => e.keyEnvironment === env);
      ensure(same(mine?.apiBaseUrl, ctx.config.baseUrl), `the ${env} environment's apiBaseUrl is ${mine?.apiBaseUrl}, yet its keys work at ${ctx.config.baseUrl}`);
      if (ctx.config.otherEnvBaseUrl) {
        const theirs = list.find((e) => e.keyEnvironment !== env);
        ensure(same(theirs?.apiBaseUrl, ctx.config.otherEnvBaseUrl), `the other environment's apiBaseUrl is ${theirs?.apiBaseUrl}, not the --other-env-base-url`);
      }
    },
  }),
];
