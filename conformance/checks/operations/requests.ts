// What the per-operation checks send: a request for any contract operation that would succeed
// with the right credentials (ids that exist, bodies that are valid), built from the contract's
// own path templates and examples plus the run's fixtures (created once per run, deleted at the
// end). A 404 or a 422 can then never hide what the credentials alone decide.
import { randomBytes } from 'node:crypto';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectStatus } from '../../lib/assert.ts';
import type { Client, Exchange } from '../../lib/http.ts';
import { secretOf } from '../../lib/secrets.ts';
import { allPermissions, fillPath, queryFor, unknownToken, type Operation, type PathValues } from './table.ts';

export type Fixtures = {
  /** The run's shared dashboard session. */
  dash: Client;
  environment: 'test' | 'live';
  /** Full keys lacking one permission each: permission → key. */
  lacking: Record<string, string>;
  /** Path (and required query) values of objects that exist: customerId, receiptId, checkpointId, proofRoot, tenantId, `api-keys/id`, `webhooks/id`, token. */
  values: PathValues;
  /** A network whose environment is `active` (provisioning it again is a 409, never a new environment). */
  activeNetwork: string | undefined;
  receiverUrl: string;
  /** The full key of `api-keys/id` (its secret must keep working after refused regenerates). */
  targetKey?: string;
};

const shared = new WeakMap<CheckContext, Promise<Fixtures>>();

/** A customer id no other check uses. */
export const freshCustomer = (what: string) => `conf-${what}-${randomBytes(5).toString('hex')}`;

/** The fixtures, created once per run (keys and the webhook endpoint are deleted at the end). */
export function fixtures(ctx: CheckContext): Promise<Fixtures> {
  let f = shared.get(ctx);
  if (!f) shared.set(ctx, (f = createFixtures(ctx)));
  return f;
}

async function createFixtures(ctx: CheckContext): Promise<Fixtures> {
  const dash = await ctx.dashboard();
  const environment = ctx.keyEnvironment ?? 'test';
  const me = await dash.get('/dashboard/auth/me');
  expectStatus(me, 200, 'reading the current user');
  const lacking: Record<string, string> = {};
  for (const p of allPermissions()) {
    const others = allPermissions().filter((x) => x !== p);
    if (others.length) lacking[p] = (await ctx.createKey({ name: `conformance-ops-no-${p.replace(/\W/g, '-')}`, environment, permissions: others })).fullKey;
  }
  const target = await ctx.createKey({ name: 'conformance-ops-target', environment });
  const customerId = freshCustomer('ops');
  const delta = await ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId, delta: '5.00', reason: 'conformance' } });
  expectStatus(delta, 201, 'recording a delta');
  const cp = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId } });
  expectStatus(cp, 201, 'creating a checkpoint');
  const receiver = await ctx.receiver();
  // Subscribed to an event the run's operation checks never cause, so its deliveries stay as they are.
  const description = `pacspace conformance operations ${ctx.runTag}`;
  const hook = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url: receiver.url, events: ['environment.activated'], description, environment } });
  expectStatus(hook, 201, 'creating a webhook endpoint');
  const endpointId = hook.body?.data?.id;
  ensure(typeof endpointId === 'string', 'the created webhook endpoint has no id');
  ctx.track('webhook endpoint', endpointId, description, () => dash.delete(`/dashboard/webhooks/${endpointId}`, { headers: CSRF }));
  ctx.secrets.add(hook.body?.data?.secret, 'a webhook signing secret', hook.id);
  const contracts = await dash.get('/dashboard/contracts');
  expectStatus(contracts, 200, 'listing the environments\' contracts');
  const active = (contracts.body?.data ?? []).find((c: any) => c?.status === 'active');
  return {
    dash,
    environment,
    lacking,
    values: {
      customerId,
      receiptId: delta.body?.data?.receiptId,
      checkpointId: cp.body?.data?.checkpointId,
      proofRoot: cp.body?.data?.proofRoot,
      tenantId: me.body?.data?.tenantId,
      'api-keys/id': target.id,
      'webhooks/id': endpointId,
      token: unknownToken(),
    },
    activeNetwork: active?.network ?? active?.environment,
    receiverUrl: receiver.url,
    targetKey: target.fullKey,
  };
}

/**
 * Valid bodies that need the run's values; any other operation sends the contract's first
 * example. Each is chosen to change nothing lasting on a real deployment when it succeeds
 * (known addresses, unknown tokens, an active environment, objects the run deletes).
 */
const BODIES: Record<string, (ctx: CheckContext, f: Fixtures, v: PathValues) => unknown> = {
  recordDelta: (_c, _f, v) => ({ customerId: v.customerId, delta: '1.00', reason: 'conformance' }),
  compareBalances: (_c, _f, v) => ({ customerId: v.customerId, yourBalance: '5.00', theirBalance: '5.00', startingBalance: '0' }),
  createCheckpoint: (_c, _f, v) => ({ customerId: v.customerId }),
  // The --email account is approved already: no second access request is recorded.
  requestAccess: (c) => ({ name: 'PacSpace conformance', email: c.config.email, organization: 'PacSpace conformance', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'conformance' }),
  // The --email account exists: 409 account_exists, nothing created.
  register: (c) => ({ email: c.config.email, password: `conformance-${randomBytes(12).toString('hex')}`, name: 'PacSpace conformance' }),
  login: (c) => ({ email: c.config.email, password: c.config.password }),
  // Verified already: no e-mail is sent.
  resendVerificationEmail: (c) => ({ email: c.config.email }),
  // An address with no account: 202 and nothing sent.
  requestPasswordReset: (c) => ({ email: `conformance-${c.runTag}@example.com` }),
  resetPassword: () => ({ token: unknownToken(), password: `conformance-${randomBytes(12).toString('hex')}` }),
  createApiKey: (c, f) => ({ name: `conformance-ops-created-${c.runTag}`, environment: f.environment, permissions: ['balance:read'] }),
  provisionEnvironment: (_c, f) => ({ environment: f.activeNetwork ?? 'testnet' }),
  createWebhookEndpoint: (c, f) => ({ url: f.receiverUrl, events: ['environment.activated'], description: `pacspace conformance operations ${c.runTag}`, environment: f.environment }),
  updateWebhookEndpoint: (c) => ({ description: `pacspace conformance operations ${c.runTag} (updated)` }),
  sendWebhookTestEvent: () => ({}),
};

export type Sent = { op: Operation; exchange: Exchange };

export type SendOptions = {
  /** Overrides of the fixture values (ids the check created itself). */
  values?: PathValues;
  headers?: Record<string, string>;
  /** A dashboard client other than the shared session. */
  client?: Client;
  /** Send no cookies at all. */
  noCookies?: boolean;
};

/** Sends the operation's valid request with exactly the given credentials. */
export async function sendOperation(ctx: CheckContext, f: Fixtures, op: Operation, o: SendOptions = {}): Promise<Exchange> {
  const values = { ...f.values, ...o.values };
  const filled = fillPath(op, values);
  ensure('path' in filled, `${op.operationId}: no value is known for its path parameter "${'missing' in filled ? filled.missing : ''}" (an operation the suite does not know how to call yet)`);
  const body = BODIES[op.operationId]?.(ctx, f, values) ?? op.exampleBody;
  const client = op.dashboard ? (o.client ?? f.dash) : ctx.api;
  return client.send(op.method, `${filled.path}${queryFor(op, values)}`, {
    headers: o.headers ?? {},
    ...(body === undefined ? {} : { json: body }),
    ...(o.noCookies ? { noCookies: true } : {}),
  });
}

/** Records every secret an answer reveals (key secrets, signing secrets), so REVEAL-002 can tell where it may appear. */
export function noteSecrets(ctx: CheckContext, ex: Exchange) {
  const d = ex.body?.data;
  if (!d || typeof d !== 'object') return;
  if (typeof d.secretKey === 'string') ctx.secrets.add(d.secretKey, `the secret of key ${d.id}`, ex.id);
  if (typeof d.fullKey === 'string') ctx.secrets.add(secretOf(d.fullKey), `the secret of key ${d.id}`, ex.id);
  if (typeof d.secret === 'string') ctx.secrets.add(d.secret, 'a webhook signing secret', ex.id);
}

/** The Cookie header of a dashboard client's jar. */
export const cookieHeader = (client: Client) => [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ');
