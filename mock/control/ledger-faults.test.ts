// The ledger and webhook faults of the registry over real HTTP: for each, the rule holds with the
// fault off, breaks once PUT /__sandbox/faults/{name} switches it on, and holds again once it
// is switched off. Every rule is judged with this file's own code (node:crypto for hashes and
// HMACs), never with the sandbox's; only the RFC 9162 path walk comes from protocol/merkle.ts.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../protocol/canonical-json.ts';
import { rootFromPath } from '../../protocol/merkle.ts';
import type { HttpClient, RequestOptions, TestResponse } from '../testing/http-client.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import type { FaultName } from './faults.ts';

type Delivery = { headers: Record<string, string>; raw: string; body: any };

let sb: TestSandbox;
let control: HttpClient;
let hooks: Server;
let hookUrl: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  sb = await startTestSandbox({ webhooks: { timeoutMs: 1_000, retryDelaysMs: [50, 100] } });
  control = sb.newDashboardClient();
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      deliveries.push({ headers, raw, body: JSON.parse(raw) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  await sb?.close();
  await new Promise((resolve) => hooks?.close(resolve));
});

async function waitForDelivery(eventId: string): Promise<Delivery> {
  for (let i = 0; i < 200; i++) {
    const found = deliveries.find((d) => d.headers['x-pacspace-event-id'] === eventId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no delivery of ${eventId} arrived`);
}

/** What a probe gets: the demo's key, a logged-in dashboard, and whether to tolerate contract violations. */
type Env = { key: { 'X-Api-Key': string }; dashboard: HttpClient; lenient: RequestOptions };

function expectCreated(r: TestResponse) {
  expect(r.status, r.text).toBe(201);
  return r.body.data;
}

let n = 0;
const customer = () => `fault-${Date.now().toString(36)}-${++n}`;

function record(env: Env, body: Record<string, unknown> | string, headers: Record<string, string> = {}) {
  return typeof body === 'string'
    ? sb.sandboxApi.post('/api/v1/balance/delta', { ...env.lenient, headers: { ...env.key, ...headers, 'content-type': 'application/json' }, raw: body })
    : sb.sandboxApi.post('/api/v1/balance/delta', { ...env.lenient, headers: { ...env.key, ...headers }, json: body });
}

const derive = async (env: Env, id: string) => (await sb.sandboxApi.get(`/api/v1/balance/derive/${id}`, { headers: env.key })).body.data;
const checkpoint = (env: Env, customerId: string) => sb.sandboxApi.post('/api/v1/balance/checkpoint', { ...env.lenient, headers: env.key, json: { customerId } });

/** SHA-256(0x00 || RFC 8785 of the Proofs section's leaf), computed here. */
function expectedLeafHash(r: any): string {
  const leaf = {
    receiptId: r.receiptId,
    customerId: r.customerId,
    sequence: r.sequence,
    delta: r.delta,
    balanceAfter: r.balanceAfter,
    reason: r.reason,
    referenceId: r.referenceId,
    metadata: r.metadata,
    createdAt: r.createdAt,
  };
  return createHash('sha256').update(Buffer.from([0])).update(canonicalize(leaf), 'utf8').digest('hex');
}

async function newEndpoint(env: Env) {
  const created = await env.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: hookUrl, events: ['delta.recorded'], environment: 'test' } });
  const data = expectCreated(created);
  return { id: data.id as string, secret: data.secret as string };
}

async function sendTest(env: Env, endpointId: string) {
  const sent = await env.dashboard.post(`/dashboard/webhooks/${endpointId}/test`, { headers: CSRF, json: {} });
  expect(sent.status, sent.text).toBe(202);
  return waitForDelivery(sent.body.data.eventId);
}

const v1Values = (d: Delivery) => (d.headers['x-pacspace-signature'] ?? '').split(',').filter((v) => v.startsWith('v1=')).map((v) => v.slice(3));
const hmacHex = (secret: string, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest('hex');
const signedBy = (d: Delivery, secret: string) => v1Values(d).includes(hmacHex(secret, `${d.headers['x-pacspace-timestamp']}.${d.raw}`));

/** Each fault with a probe that answers "does the rule it breaks hold?". */
const RULES: Array<{ fault: FaultName; rule: string; holds(env: Env): Promise<boolean> }> = [
  {
    fault: 'float-arithmetic',
    rule: 'the largest amount keeps every digit in balanceAfter and derive',
    async holds(env) {
      const id = customer();
      const r = await record(env, `{"customerId":"${id}","delta":999999999999999.99999999,"reason":"fault test"}`);
      const after = expectCreated(r).balanceAfter;
      const derived = (await derive(env, id)).computedBalance;
      expect(after).toBe(derived);
      return after === '999999999999999.99999999';
    },
  },
  {
    fault: 'idempotency-ignored',
    rule: 'a replay answers the first receipt with Idempotent-Replayed: true and records once',
    async holds(env) {
      const id = customer();
      const body = { customerId: id, delta: '5.00', reason: 'fault test' };
      const first = expectCreated(await record(env, body, { 'Idempotency-Key': `k-${id}` }));
      const replay = await record(env, body, { 'Idempotency-Key': `k-${id}` });
      const replayed = expectCreated(replay).receiptId === first.receiptId && replay.headers.get('idempotent-replayed') === 'true';
      const { deltaCount } = await derive(env, id);
      expect(replayed).toBe(deltaCount === 1);
      return replayed && deltaCount === 1;
    },
  },
  {
    fault: 'idempotency-conflict-accepted',
    rule: 'the same Idempotency-Key with another body is 409 idempotency_key_reused and records nothing',
    async holds(env) {
      const id = customer();
      expectCreated(await record(env, { customerId: id, delta: '5.00', reason: 'fault test' }, { 'Idempotency-Key': `k-${id}` }));
      const other = await record(env, { customerId: id, delta: '6.00', reason: 'fault test' }, { 'Idempotency-Key': `k-${id}` });
      const { deltaCount } = await derive(env, id);
      return other.status === 409 && other.body.code === 'idempotency_key_reused' && deltaCount === 1;
    },
  },
  {
    fault: 'duplicate-reference-accepted',
    rule: 'a repeated referenceId is 409 duplicate_reference naming the first receipt, and records nothing',
    async holds(env) {
      const id = customer();
      const first = expectCreated(await record(env, { customerId: id, delta: '1.00', reason: 'fault test', referenceId: `txn-${id}` }));
      const again = await record(env, { customerId: id, delta: '2.00', reason: 'fault test', referenceId: `txn-${id}` });
      const { deltaCount } = await derive(env, id);
      return again.status === 409 && again.body.code === 'duplicate_reference' && again.body.receiptId === first.receiptId && deltaCount === 1;
    },
  },
  {
    fault: 'compare-discrepancy-wrong',
    rule: 'the discrepancy of yourBalance 100.00 and theirBalance 99.50 is 0.50',
    async holds(env) {
      const r = await sb.sandboxApi.post('/api/v1/balance/compare', { headers: env.key, json: { yourBalance: '100.00', theirBalance: '99.50' } });
      expect(r.status, r.text).toBe(200);
      return r.body.data.discrepancy === '0.50';
    },
  },
  {
    fault: 'leaf-hash-without-domain-separation',
    rule: 'a receipt\'s leafHash is SHA-256(0x00 || canonical leaf)',
    async holds(env) {
      const r = expectCreated(await record(env, { customerId: customer(), delta: '1.25', reason: 'fault test', metadata: { a: 'b' } }));
      return r.leafHash === expectedLeafHash(r);
    },
  },
  {
    fault: 'inclusion-proof-wrong',
    rule: 'every receipt\'s inclusion proof verifies against its checkpoint\'s root',
    async holds(env) {
      const id = customer();
      for (let i = 1; i <= 7; i++) expectCreated(await record(env, { customerId: id, delta: `${i}.00`, reason: 'fault test' }));
      const cp = expectCreated(await checkpoint(env, id));
      const listed = await sb.sandboxApi.get(`/api/v1/checkpoints/${cp.checkpointId}/receipts`, { headers: env.key });
      expect(listed.body.data.items).toHaveLength(7);
      return listed.body.data.items.every((r: any) => {
        const p = r.inclusionProof;
        const root = rootFromPath(Buffer.from(expectedLeafHash(r), 'hex'), p.leafIndex, p.treeSize, p.auditPath.map((h: string) => Buffer.from(h, 'hex')));
        return p.proofRoot === cp.proofRoot && root?.toString('hex') === cp.proofRoot;
      });
    },
  },
  {
    fault: 'verify-requires-key',
    rule: 'GET /api/v1/verify/{proofRoot} confirms a root without a key',
    async holds(env) {
      const id = customer();
      expectCreated(await record(env, { customerId: id, delta: '1.00', reason: 'fault test' }));
      const cp = expectCreated(await checkpoint(env, id));
      const verified = await sb.sandboxApi.get(`/api/v1/verify/${cp.proofRoot}`, env.lenient);
      return verified.status === 200 && verified.body.data.verified === true && verified.body.data.checkpoint.checkpointId === cp.checkpointId;
    },
  },
  {
    fault: 'checkpoint-chain-broken',
    rule: 'the second checkpoint\'s previousProofRoot is the first\'s proofRoot',
    async holds(env) {
      const id = customer();
      expectCreated(await record(env, { customerId: id, delta: '1.00', reason: 'fault test' }));
      const first = expectCreated(await checkpoint(env, id));
      expect(first.previousProofRoot).toBeNull();
      expectCreated(await record(env, { customerId: id, delta: '2.00', reason: 'fault test' }));
      const second = expectCreated(await checkpoint(env, id));
      return second.previousProofRoot === first.proofRoot;
    },
  },
  {
    fault: 'webhook-signature-without-timestamp',
    rule: 'a delivery is signed with HMAC-SHA256 over timestamp + "." + body',
    async holds(env) {
      const e = await newEndpoint(env);
      const d = await sendTest(env, e.id);
      expect(v1Values(d)).toHaveLength(1);
      return signedBy(d, e.secret);
    },
  },
  {
    fault: 'webhook-single-signature-during-rotation',
    rule: 'during a rotation\'s overlap a delivery carries two signatures, by the new and the previous secret',
    async holds(env) {
      const e = await newEndpoint(env);
      const rotated = await env.dashboard.post(`/dashboard/webhooks/${e.id}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 3600 } });
      expect(rotated.status, rotated.text).toBe(200);
      const d = await sendTest(env, e.id);
      expect(signedBy(d, rotated.body.data.secret)).toBe(true);
      return v1Values(d).length === 2 && signedBy(d, e.secret);
    },
  },
  {
    fault: 'webhook-secret-in-payload',
    rule: 'a delivery\'s body carries no signing secret',
    async holds(env) {
      const e = await newEndpoint(env);
      const d = await sendTest(env, e.id);
      expect(signedBy(d, e.secret)).toBe(true);
      return !d.raw.includes(e.secret) && !d.raw.includes('whsec_');
    },
  },
  {
    fault: 'undocumented-status',
    rule: 'POST /api/v1/balance/checkpoint answers 201, as the contract documents',
    async holds(env) {
      const id = customer();
      expectCreated(await record(env, { customerId: id, delta: '1.00', reason: 'fault test' }));
      const r = await checkpoint(env, id);
      expect(r.body.data.checkpointId).toMatch(/^chk_/);
      // With the fault on, the sandbox's own response validation flags the answer too.
      expect(r.headers.get('sl-violations') === null).toBe(r.status === 201);
      return r.status === 201;
    },
  },
];

async function setFault(name: FaultName, active: boolean) {
  const r = await control.request('PUT', `/__sandbox/faults/${name}`, { json: { active } });
  expect(r.status, r.text).toBe(200);
  expect(r.body.data).toMatchObject({ name, active });
}

describe('ledger and webhook faults', () => {
  for (const { fault, rule, holds } of RULES) {
    it(`${fault}: on, the rule breaks (${rule}); off, it holds`, async () => {
      const reset = await control.post('/__sandbox/reset');
      expect(reset.status, reset.text).toBe(200);
      const demo = reset.body.data.demo;
      const dashboard = sb.newDashboardClient();
      expect((await dashboard.post('/dashboard/auth/login', { json: { email: demo.email, password: demo.password } })).status).toBe(200);
      const strict: Env = { key: { 'X-Api-Key': demo.fullKey }, dashboard, lenient: {} };
      const lenient: Env = { ...strict, lenient: { allowViolations: true } };

      expect(await holds(strict), 'before the fault').toBe(true);
      await setFault(fault, true);
      expect(await holds(lenient), 'with the fault on').toBe(false);
      await setFault(fault, false);
      expect(await holds(strict), 'with the fault off again').toBe(true);
    });
  }
});
