// R-OPS: who may call each operation. One check per auth class, each over every contract
// operation of that class (derived from its security requirements): the request is one that
// would succeed with the right credentials, on objects that exist, so only the credentials can
// decide the answer; state is read before and after, and a refused request must change nothing.
import { randomBytes } from 'node:crypto';
import { defineCheck, type Need } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { CheckFailure, ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import { createClient, type Client } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import { cookieHeader, fixtures, freshCustomer, sendOperation, type Fixtures } from './requests.ts';
import { operations, theContract, type AuthKind, type Operation } from './table.ts';

const FIXTURE_NEEDS: Need[] = ['apiKey', 'dashboard', 'writes', 'webhooks'];

/** The operations of one auth class; an operation whose security the suite cannot classify fails every class check. */
function ofClass(kind: AuthKind): Operation[] {
  const unknown = operations().filter((o) => o.auth === 'unknown');
  ensure(unknown.length === 0, `operations with a security requirement the suite does not know: ${unknown.map((o) => o.operationId).join(', ')}`);
  return operations().filter((o) => o.auth === kind);
}

/** Runs every probe, collecting failures, then fails once with all of them. */
async function probeAll(probes: Array<[string, () => Promise<void>]>) {
  const failures: string[] = [];
  for (const [label, probe] of probes) {
    try {
      await probe();
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      failures.push(`${label}: ${error.message}`);
    }
  }
  ensure(failures.length === 0, `${failures.length} problem(s) with refused requests:\n${failures.join('\n')}`);
}

/** The contract's cookie names for the access and refresh cookies. */
const cookieName = (scheme: 'DashboardSession' | 'DashboardRefresh') => theContract().doc.components.securitySchemes[scheme].name as string;

/** The --api-key with its secret replaced: the public part is real, the secret wrong. */
function wrongSecret(key: string) {
  const dot = key.indexOf('.');
  const secret = key.slice(dot + 1);
  const prefix = /^sk_[a-z]+_/.exec(secret)?.[0] ?? '';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const random = [...randomBytes(secret.length - prefix.length)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${key.slice(0, dot)}.${prefix}${random}`;
}

/** What an API key operation can change, as read with the full key: the customer's ledger. */
async function ledgerState(ctx: CheckContext, customerId: string) {
  const res = await ctx.api.get(`/api/v1/balance/derive/${encodeURIComponent(customerId)}`, { headers: ctx.keyHeaders() });
  expectStatus(res, 200, 'deriving the customer\'s balance');
  const { deltaCount, computedBalance, lastCheckpoint } = res.body?.data ?? {};
  return { deltaCount, computedBalance, lastCheckpoint: lastCheckpoint ?? null };
}

/** Every item of a dashboard list, first 100 (the run's own objects are among the newest). */
async function listed(dash: Client, path: string, pick: (x: any) => unknown) {
  const res = await dash.get(`${path}?page=1&limit=100`);
  expectStatus(res, 200, `listing ${path}`);
  const items: any[] = res.body?.data?.items ?? [];
  return Object.fromEntries(items.map((x) => [x?.id, pick(x)]));
}

/** What a session operation can change: keys, webhook endpoints and their deliveries, environments, the session itself. */
async function dashboardState(ctx: CheckContext, f: Fixtures) {
  const dash = f.dash;
  const keys = await listed(dash, '/dashboard/api-keys', ({ name, environment, publicKey, permissions, active }) => ({ name, environment, publicKey, permissions, active }));
  const hooks = await listed(dash, '/dashboard/webhooks', ({ url, description, events, environment, active, previousSecretExpiresAt, updatedAt }) => ({ url, description, events, environment, active, previousSecretExpiresAt, updatedAt }));
  const deliveries = await dash.get(`/dashboard/webhooks/${f.values['webhooks/id']}/deliveries?page=1&limit=100`);
  expectStatus(deliveries, 200, 'listing the endpoint\'s deliveries');
  const contracts = await dash.get('/dashboard/contracts');
  expectStatus(contracts, 200, 'listing the environments\' contracts');
  const me = await dash.get('/dashboard/auth/me');
  expectStatus(me, 200, 'the session must still be valid');
  return { keys, hooks, deliveries: deliveries.body?.data?.total, contracts: contracts.body?.data };
}

/** The GET operation that reads the object an `…/{id}…` operation acts on (the longest such path), if any. */
function objectReader(op: Operation): Operation | undefined {
  return operations()
    .filter((o) => o.method === 'GET' && o.path.endsWith('}') && op.path.startsWith(o.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

/** The object as its GET answers it, without when it was last used (reading state must not depend on it). */
async function objectState(ctx: CheckContext, f: Fixtures, reader: Operation) {
  const res = await sendOperation(ctx, f, reader, {});
  expectStatus(res, 200, `reading the object (${reader.operationId})`);
  const { lastUsedAt: _l, ...rest } = res.body?.data ?? {};
  return rest;
}

const describeDiff = (before: Record<string, unknown>, after: Record<string, unknown>) =>
  Object.keys(before).filter((k) => !sameJson(before[k], after[k])).join(', ');

export const opsChecks = [
  defineCheck({
    id: 'OPS-001',
    rule: 'Every public operation of the contract (no security requirement) answers without any credential: no API key, no session cookie, no X-Pacspace-CSRF header — never 401 or 403.',
    source: 'openapi security (operations with security: [])',
    needs: FIXTURE_NEEDS,
    async run(ctx) {
      const f = await fixtures(ctx);
      const probes = ofClass('public').map((op): [string, () => Promise<void>] => [
        op.operationId,
        async () => {
          const bare = createClient(ctx.recorder, ctx.config.dashboardUrl!);
          const ex = await sendOperation(ctx, f, op, { client: bare });
          if (bare.jar.size) ctx.onCleanup(() => bare.post('/dashboard/auth/logout', { headers: CSRF }));
          ensure(ex.status !== 401 && ex.status !== 403, `${op.method} ${ex.path} without any credential answered ${ex.status} ${ex.body?.code ?? ''}: it is public in the contract`);
        },
      ]);
      await probeAll(probes);
    },
  }),
  defineCheck({
    id: 'OPS-002',
    rule: 'Every API key operation refuses a request without a valid key in X-Api-Key (none, a wrong secret, a session cookie instead) with 401 unauthenticated, and a valid key lacking a permission it requires with 403 insufficient_permission; refused requests change nothing.',
    source: 'openapi #/components/securitySchemes/ApiKeyAuth',
    needs: FIXTURE_NEEDS,
    async run(ctx) {
      const f = await fixtures(ctx);
      // A customer with a delta and no checkpoint: recording and checkpointing would both succeed.
      const customerId = freshCustomer('ops-pending');
      expectStatus(await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId, delta: '3.00', reason: 'conformance' } }), 201, 'recording a delta');
      const values = { customerId };
      const before = await ledgerState(ctx, customerId);
      const probes: Array<[string, () => Promise<void>]> = [];
      for (const op of ofClass('api key')) {
        const refused = (label: string, headers: Record<string, string>, status: number, code: string): [string, () => Promise<void>] => [
          `${op.operationId} ${label}`,
          async () => expectProblem(await sendOperation(ctx, f, op, { values, headers }), status, code, label),
        ];
        probes.push(refused('without X-Api-Key', {}, 401, 'unauthenticated'));
        probes.push(refused('with a wrong secret', ctx.keyHeaders(wrongSecret(ctx.config.apiKey!)), 401, 'unauthenticated'));
        probes.push(refused('with the dashboard session cookie instead of a key', { cookie: cookieHeader(f.dash) }, 401, 'unauthenticated'));
        for (const p of op.permissions) {
          const key = f.lacking[p];
          if (key) probes.push(refused(`with a key lacking ${p}`, ctx.keyHeaders(key), 403, 'insufficient_permission'));
        }
      }
      await probeAll(probes);
      const after = await ledgerState(ctx, customerId);
      ensure(sameJson(after, before), `refused API key requests changed the customer's ledger (${describeDiff(before, after)})`);
    },
  }),
  defineCheck({
    id: 'OPS-003',
    rule: 'Every session operation answers 401 unauthenticated without the access cookie; an Authorization: Bearer header with the access token does not count as a session.',
    source: 'openapi #/components/securitySchemes/DashboardSession',
    needs: FIXTURE_NEEDS,
    async run(ctx) {
      const f = await fixtures(ctx);
      const access = f.dash.jar.get(cookieName('DashboardSession'));
      ensure(access, 'the login set no access cookie');
      const probes: Array<[string, () => Promise<void>]> = [];
      for (const op of ofClass('session')) {
        const refused = (label: string, headers: Record<string, string>): [string, () => Promise<void>] => [
          `${op.operationId} ${label}`,
          async () => expectProblem(await sendOperation(ctx, f, op, { headers, noCookies: true }), 401, 'unauthenticated', label),
        ];
        probes.push(refused('without a session cookie', {}));
        probes.push(refused('with the access token as Authorization: Bearer', { authorization: `Bearer ${access}` }));
      }
      await probeAll(probes);
    },
  }),
  defineCheck({
    id: 'OPS-004',
    rule: 'Every session + CSRF operation answers 401 unauthenticated without the access cookie and 403 csrf_required with a valid session but no X-Pacspace-CSRF: 1; refused requests change nothing.',
    source: 'openapi #/components/securitySchemes/DashboardSession; openapi #/components/securitySchemes/CsrfHeader',
    needs: FIXTURE_NEEDS,
    async run(ctx) {
      const f = await fixtures(ctx);
      const before = await dashboardState(ctx, f);
      const objects = new Map<string, unknown>();
      const probes: Array<[string, () => Promise<void>]> = [];
      for (const op of ofClass('session + CSRF')) {
        // The object an operation on `…/{id}…` acts on is read after each refusal: two refused
        // toggles that were both carried out would cancel out in a before/after comparison.
        const reader = objectReader(op);
        const unchanged = async (label: string) => {
          if (!reader) return;
          const now = await objectState(ctx, f, reader);
          const was = objects.get(reader.operationId);
          objects.set(reader.operationId, now);
          ensure(sameJson(now, was), `the ${reader.operationId} answer changed after ${op.operationId} was refused (${label})`);
        };
        if (reader && !objects.has(reader.operationId)) objects.set(reader.operationId, await objectState(ctx, f, reader));
        probes.push([`${op.operationId} without a session cookie`, async () => {
          expectProblem(await sendOperation(ctx, f, op, { headers: { ...CSRF }, noCookies: true }), 401, 'unauthenticated', 'no session cookie');
          await unchanged('no session cookie');
        }]);
        probes.push([`${op.operationId} without X-Pacspace-CSRF`, async () => {
          expectProblem(await sendOperation(ctx, f, op, {}), 403, 'csrf_required', 'a valid session but no X-Pacspace-CSRF');
          await unchanged('no X-Pacspace-CSRF');
        }]);
      }
      await probeAll(probes);
      const after = await dashboardState(ctx, f);
      ensure(sameJson(after, before), `refused session requests changed the dashboard's state (${describeDiff(before, after)})`);
      // A refused regenerate or toggle must leave the key's secret working.
      const used = await ctx.api.get(`/api/v1/balance/derive/${encodeURIComponent(f.values.customerId!)}`, { headers: ctx.keyHeaders(f.targetKey) });
      expectStatus(used, 200, 'the target key after the refused requests (regenerate, toggle, delete) must still work');
    },
  }),
  defineCheck({
    id: 'OPS-005',
    rule: 'Every refresh-cookie + CSRF operation answers 401 unauthenticated without the refresh cookie (the access cookie does not count) and 403 csrf_required without X-Pacspace-CSRF: 1; the refused requests neither rotate nor revoke the refresh cookie.',
    source: 'openapi #/components/securitySchemes/DashboardRefresh; openapi #/components/securitySchemes/CsrfHeader',
    needs: ['dashboard'],
    async run(ctx) {
      const own = await ctx.loginClient();
      ctx.onCleanup(() => own.post('/dashboard/auth/logout', { headers: CSRF }));
      const f = { dash: own, environment: 'test', lacking: {}, values: {}, activeNetwork: undefined, receiverUrl: '' } satisfies Fixtures;
      const access = own.jar.get(cookieName('DashboardSession'));
      const probes: Array<[string, () => Promise<void>]> = [];
      for (const op of ofClass('refresh cookie + CSRF')) {
        probes.push([`${op.operationId} without cookies`, async () => expectProblem(await sendOperation(ctx, f, op, { headers: { ...CSRF }, noCookies: true }), 401, 'unauthenticated', 'no refresh cookie')]);
        probes.push([`${op.operationId} with the access cookie only`, async () => expectProblem(await sendOperation(ctx, f, op, { headers: { ...CSRF, cookie: `${cookieName('DashboardSession')}=${access}` } }), 401, 'unauthenticated', 'the access cookie is not the refresh cookie')]);
        probes.push([`${op.operationId} without X-Pacspace-CSRF`, async () => expectProblem(await sendOperation(ctx, f, op, {}), 403, 'csrf_required', 'the refresh cookie but no X-Pacspace-CSRF')]);
        probes.push([`${op.operationId} with both, after the refusals`, async () => expectStatus(await sendOperation(ctx, f, op, { headers: { ...CSRF } }), op.success, 'the refused requests must not have rotated or revoked the refresh cookie')]);
      }
      await probeAll(probes);
    },
  }),
];
