// Cross-tenant isolation (OWASP API1:2023 broken object level authorization, API5:2023
// broken function level authorization). Tenant A is the main login (--email); tenant B is the
// second account (--second-email), with its own session and its own API key. B tries every
// object-by-id operation of the contract with A's ids: each must answer exactly as for an
// unknown, well-formed id, and change nothing of A's. ISO-004/005 do the same across the two
// environments: one environment's data is unknown in the other.
import { randomBytes } from 'node:crypto';
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext, type CreatedKey } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import { secretOf } from '../../lib/secrets.ts';
import { Inconclusive } from '../../lib/outcome.ts';
import { expectSameUnauthenticated, pollUntil } from '../auth/support.ts';

type Tenants = {
  /** A's dashboard session (the run's shared one). */
  a: Client;
  aTenantId: string;
  aKey: CreatedKey;
  aEndpointId: string;
  aReceiptId: string;
  aCheckpointId: string;
  aCustomer: string;
  /** B's own dashboard session. */
  b: Client;
  /** B's own API key. */
  bKey: string;
};

const shared = new WeakMap<CheckContext, Promise<Tenants>>();
/** A random, well-formed id that no deployment has: the reference for "unknown". */
const unknownId = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/** Tenant A's objects and tenant B's session and key, created once per run and removed at the end. */
function tenants(ctx: CheckContext): Promise<Tenants> {
  const existing = shared.get(ctx);
  if (existing) return existing;
  const created = (async (): Promise<Tenants> => {
    const a = await ctx.dashboard();
    const me = await a.get('/dashboard/auth/me');
    expectStatus(me, 200, 'reading tenant A\'s user');
    const aTenantId = me.body?.data?.tenantId;
    ensure(typeof aTenantId === 'string', 'GET /dashboard/auth/me has no tenantId');
    const environment = ctx.keyEnvironment ?? 'test';
    const aKey = await ctx.createKey({ name: 'conformance-iso-a', environment });
    const aCustomer = `conf-iso-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const delta = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(aKey.fullKey), json: { customerId: aCustomer, delta: '7.00', reason: 'conformance' } });
    expectStatus(delta, 201, 'recording a delta as tenant A');
    const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(aKey.fullKey), json: { customerId: aCustomer } });
    expectStatus(cp, 201, 'creating a checkpoint as tenant A');
    // Subscribed only to an event A never causes here: any delivery would be B's doing.
    const receiver = await ctx.receiver();
    const description = `pacspace conformance isolation ${ctx.runTag}`;
    const hook = await a.post('/dashboard/webhooks', { headers: CSRF, json: { url: receiver.url, events: ['api_key.regenerated'], description, environment } });
    expectStatus(hook, 201, 'creating a webhook endpoint as tenant A');
    const aEndpointId = hook.body?.data?.id;
    ctx.track('webhook endpoint', aEndpointId, description, () => a.delete(`/dashboard/webhooks/${aEndpointId}`, { headers: CSRF }));
    ctx.secrets.add(hook.body?.data?.secret, 'the isolation endpoint\'s signing secret', hook.id);

    const b = await ctx.loginClient(ctx.config.secondEmail, ctx.config.secondPassword);
    ctx.onCleanup(() => b.post('/dashboard/auth/logout', { headers: CSRF }));
    const bName = `conformance-iso-b-${ctx.runTag}`;
    const bRes = await b.post('/dashboard/api-keys', { headers: CSRF, json: { name: bName, environment } });
    expectStatus(bRes, 201, 'creating an API key as tenant B');
    const bId = bRes.body?.data?.id;
    if (typeof bId === 'string') ctx.track('api key (second account)', bId, bName, () => b.delete(`/dashboard/api-keys/${bId}`, { headers: CSRF }));
    const bKey = bRes.body?.data?.fullKey;
    ensure(typeof bKey === 'string', 'the create response must reveal fullKey');
    ctx.secrets.add(bRes.body?.data?.secretKey, 'the secret of the second account\'s key', bRes.id);
    ctx.secrets.add(secretOf(bKey), 'the secret of the second account\'s key', bRes.id);
    return { a, aTenantId, aKey, aEndpointId, aReceiptId: delta.body.data.receiptId, aCheckpointId: cp.body.data.checkpointId ?? cp.body.data.id, aCustomer, b, bKey };
  })();
  shared.set(ctx, created);
  return created;
}

/** B's request with A's id answers exactly as the same request with an unknown id: same status and problem code. */
async function sameAsUnknown(what: string, send: (id: string) => Promise<Exchange>, foreignId: string, prefix: string, whose = 'another tenant\'s id', leak = 'the object is visible across tenants') {
  const reference = await send(unknownId(prefix));
  ensure(reference.status === 404, `${what} with an unknown id answered ${reference.status}, not 404`);
  const res = await send(foreignId);
  ensure(
    res.status === reference.status && res.body?.code === reference.body?.code,
    `${what} with ${whose} answered ${res.status} ${res.body?.code ?? ''}, but ${reference.status} ${reference.body?.code ?? ''} for an unknown id: ${leak}`,
  );
}

const NEEDS = ['apiKey', 'dashboard', 'writes', 'secondAccount', 'webhooks'] as const;

/**
 * Makes sure the environment of `keyEnvironment` is active, provisioning it when it is not
 * (like ENV-002, which runs earlier and usually has done it: on a real deployment this is an
 * irreversible action, taken only with --provision), and
 * waiting for the activation. False when it is not active and may not be provisioned.
 */
async function otherEnvironmentActive(ctx: CheckContext, keyEnvironment: string): Promise<boolean> {
  const dash = await ctx.dashboard();
  const read = async () => {
    const envs = await dash.get('/dashboard/environments');
    expectStatus(envs, 200, 'listing environments');
    const e = (envs.body?.data ?? []).find((x: any) => x.keyEnvironment === keyEnvironment);
    ensure(e, `GET /dashboard/environments has no environment for ${keyEnvironment} keys`);
    return e;
  };
  let e = await read();
  // Provisioning cannot be undone: only with --provision.
  if (e.status !== 'active' && e.status !== 'provisioning' && !ctx.config.provision) return false;
  if (e.status === 'not_provisioned' || e.status === 'error') {
    const res = await dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: e.environment } });
    ensure(res.status === 201 || res.body?.code === 'environment_already_provisioned', `provisioning ${e.environment} answered ${res.status} ${res.body?.code ?? ''}`);
  }
  e = await pollUntil(ctx, read, (x) => x.status === 'active' || x.status === 'error', 60_000);
  if (e.status !== 'active') throw new Inconclusive(`the ${e.environment} environment is ${e.status}, not active: no ${keyEnvironment} key can be made to try routing with`);
  return true;
}

export const isolationChecks = [
  defineCheck({
    id: 'ISO-001',
    rule: 'Another tenant\'s API key is unknown in the dashboard: get, delete, regenerate and toggle answer as for an unknown id, and the key keeps working unchanged.',
    source: 'PRODUCT.md The conformance suite; openapi #/components/responses/NotFound; OWASP API1:2023',
    needs: [...NEEDS],
    async run(ctx) {
      const t = await tenants(ctx);
      const before = await t.a.get(`/dashboard/api-keys/${t.aKey.id}`);
      expectStatus(before, 200, 'tenant A reading its key');
      const b = t.b;
      await sameAsUnknown('GET /dashboard/api-keys/{id}', (id) => b.get(`/dashboard/api-keys/${id}`), t.aKey.id, 'key_');
      await sameAsUnknown('POST /dashboard/api-keys/{id}/regenerate', (id) => b.post(`/dashboard/api-keys/${id}/regenerate`, { headers: CSRF }), t.aKey.id, 'key_');
      await sameAsUnknown('POST /dashboard/api-keys/{id}/toggle', (id) => b.post(`/dashboard/api-keys/${id}/toggle`, { headers: CSRF }), t.aKey.id, 'key_');
      await sameAsUnknown('DELETE /dashboard/api-keys/{id}', (id) => b.delete(`/dashboard/api-keys/${id}`, { headers: CSRF }), t.aKey.id, 'key_');
      await sameAsUnknown('GET /dashboard/contracts/{tenantId}/status', (id) => b.get(`/dashboard/contracts/${id}/status`), t.aTenantId, 'tnt_');
      const after = await t.a.get(`/dashboard/api-keys/${t.aKey.id}`);
      expectStatus(after, 200, 'tenant A reading its key after tenant B\'s attempts');
      ensure(sameJson(after.body?.data, before.body?.data), 'tenant A\'s key changed after tenant B\'s attempts');
      expectStatus(await ctx.api.get(`/api/v1/balance/derive/${t.aCustomer}`, { headers: ctx.keyHeaders(t.aKey.fullKey) }), 200, 'tenant A\'s key (its original secret) after tenant B\'s attempts');
    },
  }),
  defineCheck({
    id: 'ISO-002',
    rule: 'Another tenant\'s webhook endpoint is unknown in the dashboard: get, update, delete, rotate-secret, test event and deliveries answer as for an unknown id, and the endpoint is unchanged with no delivery sent.',
    source: 'PRODUCT.md The conformance suite; openapi #/components/responses/NotFound; OWASP API1:2023',
    needs: [...NEEDS],
    async run(ctx) {
      const t = await tenants(ctx);
      const read = async () => {
        const endpoint = await t.a.get(`/dashboard/webhooks/${t.aEndpointId}`);
        expectStatus(endpoint, 200, 'tenant A reading its webhook endpoint');
        const deliveries = await t.a.get(`/dashboard/webhooks/${t.aEndpointId}/deliveries`);
        expectStatus(deliveries, 200, 'tenant A listing its endpoint\'s deliveries');
        return { endpoint: endpoint.body?.data, deliveries: deliveries.body?.data };
      };
      const before = await read();
      const b = t.b;
      const path = (id: string, rest = '') => `/dashboard/webhooks/${id}${rest}`;
      await sameAsUnknown('GET /dashboard/webhooks/{id}', (id) => b.get(path(id)), t.aEndpointId, 'wh_');
      await sameAsUnknown('PATCH /dashboard/webhooks/{id}', (id) => b.patch(path(id), { headers: CSRF, json: { description: `changed by another tenant ${ctx.runTag}`, active: false } }), t.aEndpointId, 'wh_');
      await sameAsUnknown('POST /dashboard/webhooks/{id}/rotate-secret', (id) => b.post(path(id, '/rotate-secret'), { headers: CSRF, json: { overlapSeconds: 3600 } }), t.aEndpointId, 'wh_');
      await sameAsUnknown('POST /dashboard/webhooks/{id}/test', (id) => b.post(path(id, '/test'), { headers: CSRF, json: {} }), t.aEndpointId, 'wh_');
      await sameAsUnknown('GET /dashboard/webhooks/{id}/deliveries', (id) => b.get(path(id, '/deliveries')), t.aEndpointId, 'wh_');
      await sameAsUnknown('DELETE /dashboard/webhooks/{id}', (id) => b.delete(path(id), { headers: CSRF }), t.aEndpointId, 'wh_');
      const after = await read();
      ensure(sameJson(after.endpoint, before.endpoint), 'tenant A\'s webhook endpoint changed after tenant B\'s attempts');
      ensure(sameJson(after.deliveries, before.deliveries), 'tenant A\'s endpoint has new deliveries after tenant B\'s attempts');
    },
  }),
  defineCheck({
    id: 'ISO-003',
    rule: 'Another tenant\'s receipts and checkpoints are unknown to a key of this tenant, and the same customerId is this tenant\'s own (empty) ledger.',
    source: 'PRODUCT.md The conformance suite; openapi op deriveBalance; OWASP API1:2023',
    needs: [...NEEDS],
    async run(ctx) {
      const t = await tenants(ctx);
      const headers = ctx.keyHeaders(t.bKey);
      await sameAsUnknown('GET /api/v1/receipts/{receiptId}', (id) => ctx.api.get(`/api/v1/receipts/${id}`, { headers }), t.aReceiptId, 'rcpt_');
      await sameAsUnknown('GET /api/v1/checkpoints/{checkpointId}', (id) => ctx.api.get(`/api/v1/checkpoints/${id}`, { headers }), t.aCheckpointId, 'chk_');
      await sameAsUnknown('GET /api/v1/checkpoints/{checkpointId}/receipts', (id) => ctx.api.get(`/api/v1/checkpoints/${id}/receipts`, { headers }), t.aCheckpointId, 'chk_');
      const fresh = `conf-iso-none-${randomBytes(6).toString('hex')}`;
      const reference = await ctx.api.get(`/api/v1/balance/derive/${fresh}`, { headers });
      expectStatus(reference, 200, 'tenant B deriving a customer it never used');
      const derived = await ctx.api.get(`/api/v1/balance/derive/${t.aCustomer}`, { headers });
      expectStatus(derived, 200, 'tenant B deriving tenant A\'s customer');
      const { customerId: _r, ...empty } = reference.body?.data ?? {};
      const { customerId: _d, ...got } = derived.body?.data ?? {};
      ensure(got.deltaCount === 0 && sameJson(got, empty), `tenant B sees tenant A's ledger for the same customerId (deltaCount ${got.deltaCount}, balance ${got.computedBalance})`);
      // B writes to the same customerId: that is B's ledger, and A's stays as it was.
      expectStatus(await ctx.api.post('/api/v1/balance/delta', { headers, json: { customerId: t.aCustomer, delta: '-2.50', reason: 'conformance' } }), 201, 'tenant B recording a delta for the same customerId');
      const mine = await ctx.api.get(`/api/v1/balance/derive/${t.aCustomer}`, { headers });
      ensure(mine.body?.data?.deltaCount === 1 && mine.body?.data?.computedBalance === '-2.50', `tenant B's ledger for the customer is not its own one delta of -2.50 (deltaCount ${mine.body?.data?.deltaCount}, balance ${mine.body?.data?.computedBalance})`);
      const own = await ctx.api.get(`/api/v1/balance/derive/${t.aCustomer}`, { headers: ctx.keyHeaders(t.aKey.fullKey) });
      ensure(own.body?.data?.deltaCount === 1 && own.body?.data?.computedBalance === '7.00', 'tenant A\'s own ledger changed');
    },
  }),
  defineCheck({
    id: 'ISO-004',
    rule: 'Environments are isolated: a proof root checkpointed in this environment is verified here and is unknown (as an unknown root) in the other environment.',
    source: 'seed 000 Environment separation; seed 002 Environment Routing; openapi op verifyProofRoot',
    needs: ['apiKey', 'writes', 'otherEnv'],
    async run(ctx) {
      const customer = `conf-iso-env-${randomBytes(5).toString('hex')}`;
      const delta = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '1.00', reason: 'conformance' } });
      expectStatus(delta, 201, 'recording a delta');
      const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: customer } });
      expectStatus(cp, 201, 'creating a checkpoint');
      const root = cp.body?.data?.proofRoot;
      ensure(typeof root === 'string', 'the checkpoint has no proofRoot');
      expectStatus(await ctx.api.get(`/api/v1/verify/${root}`), 200, 'verifying the root in its own environment');
      const other = ctx.other!;
      const unknown = await other.get(`/api/v1/verify/${randomBytes(32).toString('hex')}`);
      const res = await other.get(`/api/v1/verify/${root}`);
      ensure(
        res.status === unknown.status && res.body?.code === unknown.body?.code && res.status >= 400,
        `the other environment answers ${res.status} ${res.body?.code ?? ''} for this environment's proof root, but ${unknown.status} ${unknown.body?.code ?? ''} for an unknown root: test data reaches the other environment`,
      );
    },
  }),  defineCheck({
    id: 'ISO-005',
    rule: 'A key of the other environment (provisioned first when it is not and --provision is given, like ENV-002) works at its own base URL, gets the 401 of a malformed key at this one, and cannot find this environment\'s receipts and checkpoints (they answer as unknown ids).',
    source: 'seed 002 Environment Routing; seed 000 Environment separation; PRODUCT.md Keys',
    needs: ['apiKey', 'dashboard', 'writes', 'otherEnv'],
    async run(ctx) {
      const env = ctx.keyEnvironment ?? 'test';
      const otherEnv = env === 'test' ? 'live' : 'test';
      // Without the other environment no key of it can exist (KEY-007 checks the refusal): undecided.
      if (!(await otherEnvironmentActive(ctx, otherEnv))) throw new Inconclusive(`the ${otherEnv} environment is not active: give --provision to let this check provision it (irreversible)`);
      const key = await ctx.createKey({ name: 'conformance-iso-other-env', environment: otherEnv });
      ensure(key.fullKey.startsWith(`pk_${otherEnv}_`) && key.environment === otherEnv, `a ${otherEnv} key created once its environment is active is not a pk_${otherEnv}_ key`);
      const other = ctx.other!;
      const headers = ctx.keyHeaders(key.fullKey);
      expectStatus(await other.get('/api/v1/balance/derive/customer_001', { headers }), 200, `a ${otherEnv} key at its own base URL`);
      await expectSameUnauthenticated(ctx, await ctx.api.get('/api/v1/balance/derive/customer_001', { headers }), `a ${otherEnv} key at the ${env} base URL`);
      const customer = `conf-iso-env-${randomBytes(5).toString('hex')}`;
      const delta = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '1.00', reason: 'conformance' } });
      expectStatus(delta, 201, 'recording a delta');
      const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: customer } });
      expectStatus(cp, 201, 'creating a checkpoint');
      const checkpointId = cp.body?.data?.checkpointId ?? cp.body?.data?.id;
      const across = `an id from the ${env} environment`;
      const leak = 'data of one environment is visible in the other';
      await sameAsUnknown(`GET /api/v1/receipts/{receiptId} in the ${otherEnv} environment`, (id) => other.get(`/api/v1/receipts/${id}`, { headers }), delta.body?.data?.receiptId, 'rcpt_', across, leak);
      await sameAsUnknown(`GET /api/v1/checkpoints/{checkpointId} in the ${otherEnv} environment`, (id) => other.get(`/api/v1/checkpoints/${id}`, { headers }), checkpointId, 'chk_', across, leak);
      await sameAsUnknown(`GET /api/v1/checkpoints/{checkpointId}/receipts in the ${otherEnv} environment`, (id) => other.get(`/api/v1/checkpoints/${id}/receipts`, { headers }), checkpointId, 'chk_', across, leak);
      const derived = await other.get(`/api/v1/balance/derive/${customer}`, { headers });
      ensure(derived.status === 200 && derived.body?.data?.deltaCount === 0, `the ${otherEnv} environment sees this environment's delta for ${customer} (deltaCount ${derived.body?.data?.deltaCount})`);
    },
  }),
];
