// The Balance API over real HTTP against a started sandbox: the quick start's steps 1–6 with
// the real curl binary (steps 3–6 verbatim, against the Sandbox URL the dashboard lists), then
// every rule of recording, deriving, comparing and checkpointing: exact decimals, the bad
// inputs with their exact status and code (and that nothing changed), Idempotency-Key replay,
// reuse, in-progress and scope, referenceId reuse, receipts and their proofs, the public
// verify per environment, tenant isolation, the delta.recorded / delta.confirmed /
// checkpoint.created announcements, and 200 parallel deltas. The test client fails on any
// response that violates the contract.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Announcement } from '../services.ts';
import { loginDemo, signUp } from '../testing/accounts.ts';
import type { HttpClient, TestResponse } from '../testing/http-client.ts';
import { createCurl } from '../testing/curl.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';
import { resumeLedger } from './ledger-confirmations.ts';

const REQUEST_ID = /^req_[A-Za-z0-9]{8,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const RECEIPT_ID = /^rcpt_[A-Za-z0-9]{8,64}$/;
const CHECKPOINT_ID = /^chk_[A-Za-z0-9]{8,64}$/;
const CONFIRMATION_MS = 2_000;
const PROVISIONING_MS = 1_000;
const unlimited = { capacity: 100_000, refillPerSecond: 100_000 };

let sb: TestSandbox;
let work: string;
let counter = 0;

type Tenant = { client: HttpClient; tenantId: string; key: Record<string, string>; fullKey: string };
/** The main tenant of these tests, another one (isolation), and one for the parallel run. */
let A: Tenant;
let B: Tenant;
let C: Tenant;
/** A read-only key of A (403 on writes). */
let readOnly: Record<string, string>;
/** The demo tenant's test and live keys (the other environment). */
let demoTest: Record<string, string>;
let demoLive: Record<string, string>;

async function newTenant(label: string): Promise<Tenant> {
  const { client, user } = await signUp(sb, `${label}-${++counter}@example.com`);
  const created = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: `${label}-key` } });
  expect(created.status).toBe(201);
  return { client, tenantId: user.tenantId, key: { 'X-Api-Key': created.body.data.fullKey }, fullKey: created.body.data.fullKey };
}

beforeAll(async () => {
  sb = await startTestSandbox({ confirmationMs: CONFIRMATION_MS, provisioningMs: PROVISIONING_MS, rateLimits: { client: unlimited, apiKey: unlimited } });
  work = await mkdtemp(join(tmpdir(), 'pacspace-ledger-'));
  A = await newTenant('ledger-a');
  B = await newTenant('ledger-b');
  C = await newTenant('ledger-c');
  const ro = await A.client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'read-only', permissions: ['balance:read'] } });
  readOnly = { 'X-Api-Key': ro.body.data.fullKey };
  // The demo tenant gets Production too, for the other environment's key.
  await loginDemo(sb);
  expect((await sb.dashboard.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment: 'mainnet' } })).status).toBe(201);
  sb.services.clock.advance(PROVISIONING_MS);
  const live = await sb.dashboard.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'live-key', environment: 'live' } });
  expect(live.status).toBe(201);
  demoLive = { 'X-Api-Key': live.body.data.fullKey };
  demoTest = { 'X-Api-Key': sb.demo!.apiKey };
});

afterAll(async () => {
  await sb?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

const events = () => sb.services.store.eventCount;

function problem(res: TestResponse, status: number, code: string, instance?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ type: `https://docs.pacspace.io/errors/${code}`, status, code });
  if (instance) expect(res.body.instance).toBe(instance);
  expect(res.body.requestId).toMatch(REQUEST_ID);
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
}

const post = (path: string, key: Record<string, string>, json: unknown, headers: Record<string, string> = {}, client = sb.sandboxApi) =>
  client.post(path, { headers: { ...key, ...headers }, json });
const postRaw = (path: string, key: Record<string, string>, raw: string, headers: Record<string, string> = {}, client = sb.sandboxApi) =>
  client.post(path, { headers: { ...key, 'content-type': 'application/json', ...headers }, raw });

const delta = (key: Record<string, string>, body: unknown, headers: Record<string, string> = {}, client = sb.sandboxApi) =>
  post('/api/v1/balance/delta', key, body, headers, client);
/** A delta sent as raw JSON text, so JSON numbers reach the sandbox exactly as written. */
const rawDelta = (key: Record<string, string>, customerId: string, amountText: string, headers: Record<string, string> = {}) =>
  postRaw('/api/v1/balance/delta', key, `{"customerId":"${customerId}","delta":${amountText},"reason":"usage"}`, headers);
const derive = (key: Record<string, string>, customerId: string, client = sb.sandboxApi) =>
  client.get(`/api/v1/balance/derive/${customerId}`, { headers: key });
const checkpoint = (key: Record<string, string>, customerId: string, client = sb.sandboxApi) =>
  post('/api/v1/balance/checkpoint', key, { customerId }, {}, client);
const compare = (key: Record<string, string>, body: unknown) => post('/api/v1/balance/compare', key, body);
const receipt = (key: Record<string, string>, id: string, client = sb.sandboxApi) => client.get(`/api/v1/receipts/${id}`, { headers: key });

async function record(key: Record<string, string>, customerId: string, amount: string, extra: Record<string, unknown> = {}) {
  const res = await delta(key, { customerId, delta: amount, reason: 'usage', ...extra });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

// ---------------------------------------------------------------- the quick start

describe('quick start steps 1–6, with curl', () => {
  const jarName = 'pacspace-dashboard-cookies.txt';
  const KEY_PLACEHOLDER = 'pk_test_PUBLIC.SECRET';
  let fullKey: string;
  let PACSPACE_API_BASE_URL: string;
  let first: any;

  const curl = createCurl(() => work);
  /** The guide's `-H "X-Api-Key: pk_test_PUBLIC.SECRET"`, with the key step 2 revealed. */
  const apiKeyHeader = () => `X-Api-Key: ${KEY_PLACEHOLDER}`.replace(KEY_PLACEHOLDER, fullKey);

  it('Step 1: request access', async () => {
    const res = await curl([
      '-X', 'POST', `${sb.productionUrl}/dashboard/auth/request-access`,
      '-H', 'Content-Type: application/json',
      '-d', `{
"name": "Jane Doe",
"email": "you@example.com",
"organization": "Acme Inc",
"buyerMode": "DIRECT_INFERENCE_VENDOR",
"useCase": "Record usage before invoices go out."
}`,
    ]);
    expect(res.status).toBe(202);
    // "use the approved access link to create your account and verify your email address"
    const mail = (kind: string) => sb.services.store.state.outbox.filter((m) => m.to === 'you@example.com' && m.kind === kind).at(-1)!;
    const reg = await sb.newDashboardClient().post('/dashboard/auth/register', {
      json: { accessToken: new URL(mail('access').link).searchParams.get('token'), email: 'you@example.com', password: 'your-secure-password', name: 'Jane Doe' },
    });
    expect(reg.status).toBe(201);
    expect((await curl([mail('verify').link])).status).toBe(200);
  });

  it('Step 2: log in with a cookie jar, then create an API key', async () => {
    const login = await curl([
      '-X', 'POST', `${sb.productionUrl}/dashboard/auth/login`,
      '-c', jarName,
      '-H', 'Content-Type: application/json',
      '-d', `{
"email": "you@example.com",
"password": "your-secure-password"
}`,
    ]);
    expect(login.status).toBe(200);
    const created = await curl([
      '-X', 'POST', `${sb.productionUrl}/dashboard/api-keys`,
      '-b', jarName,
      '-H', 'X-Pacspace-CSRF: 1',
      '-H', 'Content-Type: application/json',
      '-d', `{
"name": "quickstart-key"
}`,
    ]);
    expect(created.status).toBe(201);
    fullKey = created.body.data.fullKey;
    expect(fullKey).toMatch(/^pk_test_[A-Za-z0-9]+\.sk_test_[A-Za-z0-9]+$/);
  });

  it('Step 3: the environment is active; the Sandbox URL is the sandbox listener', async () => {
    const res = await curl([`${sb.productionUrl}/dashboard/environments`, '-b', jarName]);
    expect(res.status).toBe(200);
    const sandboxEnv = res.body.data.find((e: any) => e.environment === 'testnet');
    expect(sandboxEnv).toMatchObject({ status: 'active', keyEnvironment: 'test', apiBaseUrl: sb.sandboxUrl });
    // export PACSPACE_API_BASE_URL="<Sandbox URL from dashboard>"
    PACSPACE_API_BASE_URL = sandboxEnv.apiBaseUrl;
  });

  it('Step 3: emit the first delta → 201 with its receipt', async () => {
    const before = events();
    const res = await curl([
      '-X', 'POST', `${PACSPACE_API_BASE_URL}/api/v1/balance/delta`,
      '-H', apiKeyHeader(),
      '-H', 'Content-Type: application/json',
      '-d', `{
"customerId": "customer_001",
"delta": 100.00,
"reason": "initial-deposit",
"referenceId": "txn-quickstart-001",
"metadata": {
"source": "quickstart-guide",
"note": "First delta!"
}
}`,
    ]);
    expect(res.status).toBe(201);
    expect(res.head.toLowerCase()).not.toContain('idempotent-replayed');
    first = res.body.data;
    expect(res.body).toEqual({
      statusCode: 201,
      data: {
        receiptId: expect.stringMatching(RECEIPT_ID),
        customerId: 'customer_001',
        sequence: 1,
        delta: '100.00',
        balanceAfter: '100.00',
        reason: 'initial-deposit',
        referenceId: 'txn-quickstart-001',
        metadata: { source: 'quickstart-guide', note: 'First delta!' },
        status: 'recorded',
        leafHash: expect.stringMatching(HEX64),
        environment: 'test',
        createdAt: expect.any(String),
        confirmedAt: null,
        checkpointId: null,
        inclusionProof: null,
      },
    });
    expect(new Date(first.createdAt).getTime()).toBe(sb.services.store.state.ledger.receipts.get(first.receiptId)!.createdAt);
    // The delta, and the key's first use (api_key.used: at most one a minute, mock/domain/api-key-use.ts).
    expect(events()).toBe(before + 2);
  });

  it('Step 4: derive the balance → 100.00', async () => {
    const res = await curl([`${PACSPACE_API_BASE_URL}/api/v1/balance/derive/customer_001`, '-H', apiKeyHeader()]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      statusCode: 200,
      data: {
        customerId: 'customer_001',
        computedBalance: '100.00',
        deltaCount: 1,
        confirmedCount: 0,
        firstDeltaAt: first.createdAt,
        lastDeltaAt: first.createdAt,
        lastCheckpoint: null,
      },
    });
  });

  it('Step 5: compare → both views match, discrepancy 0.00', async () => {
    const res = await curl([
      '-X', 'POST', `${PACSPACE_API_BASE_URL}/api/v1/balance/compare`,
      '-H', apiKeyHeader(),
      '-H', 'Content-Type: application/json',
      '-d', `{
"yourBalance": 100.00,
"theirBalance": 100.00,
"startingBalance": 0
}`,
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      statusCode: 200,
      data: {
        customerId: null,
        startingBalance: '0.00',
        yourBalance: '100.00',
        theirBalance: '100.00',
        computedBalance: null,
        expectedBalance: null,
        matchesYours: true,
        matchesTheirs: true,
        discrepancy: '0.00',
        yourDiscrepancy: null,
        theirDiscrepancy: null,
      },
    });
  });

  it('Step 6: checkpoint → a proofRoot over the period (one delta: the root is its leaf hash)', async () => {
    const res = await curl([
      '-X', 'POST', `${PACSPACE_API_BASE_URL}/api/v1/balance/checkpoint`,
      '-H', apiKeyHeader(),
      '-H', 'Content-Type: application/json',
      '-d', `{
"customerId": "customer_001"
}`,
    ]);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      statusCode: 201,
      data: {
        checkpointId: expect.stringMatching(CHECKPOINT_ID),
        customerId: 'customer_001',
        proofRoot: first.leafHash,
        previousProofRoot: null,
        algorithm: 'rfc6962-sha256-jcs-v1',
        deltaCount: 1,
        firstSequence: 1,
        lastSequence: 1,
        openingBalance: '0.00',
        closingBalance: '100.00',
        environment: 'test',
        createdAt: expect.any(String),
      },
    });
    // The leaf is recomputed here from the receipt alone (Proofs: canonical JSON, 0x00 prefix).
    const leaf = `{"balanceAfter":"100.00","createdAt":"${first.createdAt}","customerId":"customer_001","delta":"100.00","metadata":{"note":"First delta!","source":"quickstart-guide"},"reason":"initial-deposit","receiptId":"${first.receiptId}","referenceId":"txn-quickstart-001","sequence":1}`;
    expect(sha256(Buffer.concat([Buffer.from([0]), Buffer.from(leaf, 'utf8')])).toString('hex')).toBe(first.leafHash);

    // "so your counterparty can independently audit the period": public verify, no key.
    const verified = await curl([`${PACSPACE_API_BASE_URL}/api/v1/verify/${res.body.data.proofRoot}`]);
    expect(verified.status).toBe(200);
    expect(verified.body.data).toEqual({ proofRoot: first.leafHash, verified: true, checkpoint: res.body.data });
    const got = await curl([`${PACSPACE_API_BASE_URL}/api/v1/receipts/${first.receiptId}`, '-H', apiKeyHeader()]);
    expect(got.body.data.inclusionProof).toEqual({
      checkpointId: res.body.data.checkpointId,
      proofRoot: first.leafHash,
      leafIndex: 0,
      treeSize: 1,
      auditPath: [],
    });
  });
});

// ---------------------------------------------------------------- exact decimals

describe('exact decimal arithmetic', () => {
  it('ten deltas of "0.1" derive exactly "1.00"', async () => {
    for (let i = 0; i < 10; i++) await record(A.key, 'dec-strings', '0.1');
    expect((await derive(A.key, 'dec-strings')).body.data).toMatchObject({ computedBalance: '1.00', deltaCount: 10 });
  });

  it('ten deltas of the JSON number 0.1 derive exactly "1.00"', async () => {
    const after: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await rawDelta(A.key, 'dec-numbers', '0.1');
      expect(res.status).toBe(201);
      expect(res.body.data.delta).toBe('0.10');
      after.push(res.body.data.balanceAfter);
    }
    expect(after).toEqual(['0.10', '0.20', '0.30', '0.40', '0.50', '0.60', '0.70', '0.80', '0.90', '1.00']);
    expect((await derive(A.key, 'dec-numbers')).body.data.computedBalance).toBe('1.00');
  });

  it('0.1 + 0.2 derives "0.30", as strings and as numbers', async () => {
    await record(A.key, 'dec-pt3-s', '0.1');
    expect((await record(A.key, 'dec-pt3-s', '0.2')).balanceAfter).toBe('0.30');
    expect((await rawDelta(A.key, 'dec-pt3-n', '0.1')).status).toBe(201);
    expect((await rawDelta(A.key, 'dec-pt3-n', '0.2')).body.data.balanceAfter).toBe('0.30');
    for (const c of ['dec-pt3-s', 'dec-pt3-n']) expect((await derive(A.key, c)).body.data.computedBalance).toBe('0.30');
  });

  it('large values keep every digit: 999999999999999.99999999 + 0.00000001', async () => {
    await record(A.key, 'dec-big-s', '999999999999999.99999999');
    expect((await record(A.key, 'dec-big-s', '0.00000001')).balanceAfter).toBe('1000000000000000.00');
    const big = await rawDelta(A.key, 'dec-big-n', '999999999999999.99999999');
    expect(big.status).toBe(201);
    expect(big.body.data.delta).toBe('999999999999999.99999999');
    expect((await rawDelta(A.key, 'dec-big-n', '0.00000001')).body.data.balanceAfter).toBe('1000000000000000.00');
    // The bound itself is an amount, as a number and as a string, and a balance.
    expect((await rawDelta(A.key, 'dec-big-bound', '-1000000000000000')).body.data.balanceAfter).toBe('-1000000000000000.00');
    expect((await record(A.key, 'dec-big-bound', '1000000000000000.00000000')).balanceAfter).toBe('0.00');
    expect((await record(A.key, 'dec-big-bound', '-999999999999999.99999999')).balanceAfter).toBe('-999999999999999.99999999');
    expect((await derive(A.key, 'dec-big-bound')).body.data.computedBalance).toBe('-999999999999999.99999999');
  });

  it.each([
    ['100.00', '100.00'],
    ['100', '100.00'],
    ['1e-2', '0.01'],
    ['-0.5E1', '-5.00'],
    ['12.30000000', '12.30'],
    ['0.000000010', '0.00000001'],
    ['-12.34567891', '-12.34567891'],
    ['0', '0.00'],
    ['-0', '0.00'],
    ['0e999999999', '0.00'],
  ])('the JSON number %s is read exactly as %s', async (text, expected) => {
    const res = await rawDelta(A.key, 'dec-forms', text);
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.delta).toBe(expected);
  });

  it('string amounts are written back in the contract form', async () => {
    expect((await record(A.key, 'dec-form-s', '5')).delta).toBe('5.00');
    expect((await record(A.key, 'dec-form-s', '-0.12345670')).delta).toBe('-0.1234567');
    expect((await derive(A.key, 'dec-form-s')).body.data.computedBalance).toBe('4.8765433');
  });
});

// ---------------------------------------------------------------- bad input

describe('bad input: exact answer, nothing recorded', () => {
  const PATH = '/api/v1/balance/delta';
  const customerId = 'bad-1';
  const ok = { customerId, delta: '1.00', reason: 'usage' };

  beforeAll(async () => {
    await record(A.key, customerId, '1.00', { referenceId: 'bad-ref' });
  });

  type Case = [string, () => Promise<TestResponse>, number, string, Array<[string, string]>?];
  const cases: Case[] = [
    ['9 decimals as a string → 422', () => delta(A.key, { ...ok, delta: '0.123456789' }), 422, 'validation_failed', [['body.delta', 'pattern']]],
    ['9 decimals as a number → 422', () => rawDelta(A.key, customerId, '0.123456789'), 422, 'validation_failed', [['body.delta', 'x-max-decimal-places']]],
    ['1e-9 as a number → 422', () => rawDelta(A.key, customerId, '1e-9'), 422, 'validation_failed', [['body.delta', 'x-max-decimal-places']]],
    ['past 10^15 as a number → 422', () => rawDelta(A.key, customerId, '1000000000000001'), 422, 'validation_failed', [['body.delta', 'maximum']]],
    ['past -10^15 as a number → 422', () => rawDelta(A.key, customerId, '-1000000000000001'), 422, 'validation_failed', [['body.delta', 'minimum']]],
    ['a number past the bound by less than a double can tell → 422', () => rawDelta(A.key, customerId, '1000000000000000.00000001'), 422, 'validation_failed', [['body.delta', 'maximum']]],
    ['a negative number past the bound by less than a double can tell → 422', () => rawDelta(A.key, customerId, '-1000000000000000.00000001'), 422, 'validation_failed', [['body.delta', 'minimum']]],
    ['a body-sized number with a long run of inner zeros → 422', () => rawDelta(A.key, customerId, `1.${'0'.repeat(500_000)}1`), 422, 'validation_failed', [['body.delta', 'x-max-decimal-places']]],
    ['1e400 → 422', () => rawDelta(A.key, customerId, '1e400'), 422, 'validation_failed'],
    ['past 10^15 as a string → 422', () => delta(A.key, { ...ok, delta: '1000000000000001' }), 422, 'validation_failed', [['body.delta', 'pattern']]],
    ['10^15 with a non-zero decimal as a string → 422', () => delta(A.key, { ...ok, delta: '1000000000000000.00000001' }), 422, 'validation_failed', [['body.delta', 'pattern']]],
    ['exponent in a string → 422', () => delta(A.key, { ...ok, delta: '1e5' }), 422, 'validation_failed'],
    ['leading zero in a string → 422', () => delta(A.key, { ...ok, delta: '01.5' }), 422, 'validation_failed'],
    ['"+1" → 422', () => delta(A.key, { ...ok, delta: '+1' }), 422, 'validation_failed'],
    ['a boolean amount → 422', () => delta(A.key, { ...ok, delta: true }), 422, 'validation_failed'],
    ['a null amount → 422', () => delta(A.key, { ...ok, delta: null }), 422, 'validation_failed'],
    ['missing delta → 422', () => delta(A.key, { customerId, reason: 'usage' }), 422, 'validation_failed', [['body', 'required']]],
    ['missing customerId → 422', () => delta(A.key, { delta: '1', reason: 'usage' }), 422, 'validation_failed', [['body', 'required']]],
    ['missing reason → 422', () => delta(A.key, { customerId, delta: '1' }), 422, 'validation_failed', [['body', 'required']]],
    ['empty reason → 422', () => delta(A.key, { ...ok, reason: '' }), 422, 'validation_failed', [['body.reason', 'minLength']]],
    ['reason over 200 characters → 422', () => delta(A.key, { ...ok, reason: 'x'.repeat(201) }), 422, 'validation_failed', [['body.reason', 'maxLength']]],
    ['customerId with a space → 422', () => delta(A.key, { ...ok, customerId: 'bad id' }), 422, 'validation_failed', [['body.customerId', 'pattern']]],
    ['customerId over 128 characters → 422', () => delta(A.key, { ...ok, customerId: 'c'.repeat(129) }), 422, 'validation_failed'],
    ['referenceId with a space → 422', () => delta(A.key, { ...ok, referenceId: 'has space' }), 422, 'validation_failed', [['body.referenceId', 'pattern']]],
    ['metadata value not a string → 422', () => delta(A.key, { ...ok, metadata: { a: 1 } }), 422, 'validation_failed'],
    ['metadata with 21 keys → 422', () => delta(A.key, { ...ok, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }), 422, 'validation_failed'],
    ['metadata key with a space → 422', () => delta(A.key, { ...ok, metadata: { 'bad key': 'v' } }), 422, 'validation_failed'],
    ['metadata value over 500 characters → 422', () => delta(A.key, { ...ok, metadata: { a: 'v'.repeat(501) } }), 422, 'validation_failed'],
    ['an unknown member → 422', () => delta(A.key, { ...ok, amount: '1' }), 422, 'validation_failed'],
    ['an Idempotency-Key with a space → 422', () => delta(A.key, ok, { 'Idempotency-Key': 'has space' }), 422, 'validation_failed', [['header.idempotency-key', 'pattern']]],
    ['an Idempotency-Key of 256 characters → 422', () => delta(A.key, ok, { 'Idempotency-Key': 'k'.repeat(256) }), 422, 'validation_failed'],
    ['a repeated member name → 400', () => postRaw(PATH, A.key, `{"customerId":"${customerId}","delta":1,"delta":2,"reason":"usage"}`), 400, 'invalid_json'],
    ['unparsable JSON → 400', () => postRaw(PATH, A.key, `{"customerId":"${customerId}","delta":1,`), 400, 'invalid_json'],
    ['text/plain → 415', () => postRaw(PATH, A.key, JSON.stringify(ok), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ['no API key → 401', () => delta({}, ok), 401, 'unauthenticated'],
    ['a live key on the sandbox listener → 401', () => delta(demoLive, ok), 401, 'unauthenticated'],
    ['a read-only key → 403', () => delta(readOnly, ok), 403, 'insufficient_permission'],
    ['a duplicate referenceId → 409', () => delta(A.key, { ...ok, referenceId: 'bad-ref' }), 409, 'duplicate_reference'],
  ];

  it.each(cases)('%s', async (_name, send, status, code, violations) => {
    const before = events();
    const res = await send();
    problem(res, status, code, PATH);
    if (violations) {
      const found = res.body.validation.map((v: any) => [v.location.join('.'), v.code]);
      expect(found).toEqual(expect.arrayContaining(violations));
      for (const v of res.body.validation) expect(v.severity).toBe('Error');
    }
    expect(events()).toBe(before);
    expect((await derive(A.key, customerId)).body.data).toMatchObject({ computedBalance: '1.00', deltaCount: 1 });
  });

  it('read-only keys may read', async () => {
    expect((await derive(readOnly, customerId)).body.data.computedBalance).toBe('1.00');
  });

  it('a number past 8 decimals names the rule in its message', async () => {
    const res = await rawDelta(A.key, customerId, '1.000000001');
    expect(res.body.validation).toEqual([{ location: ['body', 'delta'], severity: 'Error', code: 'x-max-decimal-places', message: 'must have at most 8 decimal places' }]);
    expect(res.body.detail).toBe('An amount breaks the contract: at most 8 decimal places, from -1000000000000000 to 1000000000000000.');
  });

  it.each([
    ['derive: customerId with a space', () => sb.sandboxApi.get('/api/v1/balance/derive/bad%20id', { headers: A.key }), 422, 'validation_failed'],
    ['checkpoint: a read-only key → 403', () => checkpoint(readOnly, customerId), 403, 'insufficient_permission'],
    ['checkpoint: no customerId → 422', () => post('/api/v1/balance/checkpoint', A.key, {}), 422, 'validation_failed'],
    ['compare: missing theirBalance → 422', () => compare(A.key, { yourBalance: '1' }), 422, 'validation_failed'],
    ['compare: 9 decimals as a number → 422', () => postRaw('/api/v1/balance/compare', A.key, '{"yourBalance":0.000000001,"theirBalance":1}'), 422, 'validation_failed'],
    ['compare: no key → 401', () => compare({}, { yourBalance: '1', theirBalance: '1' }), 401, 'unauthenticated'],
    ['receipt: not an id → 422', () => receipt(A.key, 'not-a-receipt'), 422, 'validation_failed'],
    ['receipt: unknown id → 404', () => receipt(A.key, 'rcpt_0000000000000000'), 404, 'not_found'],
    ['checkpoint: unknown id → 404', () => sb.sandboxApi.get('/api/v1/checkpoints/chk_0000000000000000', { headers: A.key }), 404, 'not_found'],
    ['checkpoint receipts: unknown id → 404', () => sb.sandboxApi.get('/api/v1/checkpoints/chk_0000000000000000/receipts', { headers: A.key }), 404, 'not_found'],
    ['checkpoint receipts: limit 1001 → 422', () => sb.sandboxApi.get('/api/v1/checkpoints/chk_0000000000000000/receipts?limit=1001', { headers: A.key }), 422, 'validation_failed'],
    ['verify: not a hash → 422', () => sb.sandboxApi.get('/api/v1/verify/XYZ'), 422, 'validation_failed'],
    ['verify: unknown root → 404', () => sb.sandboxApi.get(`/api/v1/verify/${'0'.repeat(64)}`), 404, 'not_found'],
  ] as Array<[string, () => Promise<TestResponse>, number, string]>)('%s', async (_name, send, status, code) => {
    const before = events();
    const res = await send();
    problem(res, status, code);
    expect(events()).toBe(before);
  });

  it('compare lists every amount that breaks the bounds', async () => {
    const res = await postRaw('/api/v1/balance/compare', A.key, '{"yourBalance":0.000000001,"theirBalance":-1000000000000000.00000001,"startingBalance":"1"}');
    problem(res, 422, 'validation_failed');
    expect(res.body.validation).toEqual([
      { location: ['body', 'yourBalance'], severity: 'Error', code: 'x-max-decimal-places', message: 'must have at most 8 decimal places' },
      { location: ['body', 'theirBalance'], severity: 'Error', code: 'minimum', message: 'must be >= -1000000000000000' },
    ]);
  });
});

// ---------------------------------------------------------------- the balance range

describe('balances stay within ±10^15, so compare takes every balance back', () => {
  const TOP = 'range-top';
  const BOTTOM = 'range-bottom';
  const outside = (customerId: string, from: string, to: string) =>
    `The delta would take the balance of customer ${customerId} from ${from} to ${to}, outside -1000000000000000 to 1000000000000000.`;
  /** A string delta, whatever the answer (record() expects a 201). */
  const record409 = (customerId: string, amount: string) => delta(A.key, { customerId, delta: amount, reason: 'usage' });

  async function refused(send: () => Promise<TestResponse>, customerId: string, from: string, to: string, state: { computedBalance: string; deltaCount: number }) {
    const before = events();
    const res = await send();
    problem(res, 409, 'balance_out_of_range', '/api/v1/balance/delta');
    expect(res.body).toEqual({
      type: 'https://docs.pacspace.io/errors/balance_out_of_range',
      title: 'Balance out of range',
      status: 409,
      detail: outside(customerId, from, to),
      code: 'balance_out_of_range',
      requestId: res.body.requestId,
      instance: '/api/v1/balance/delta',
    });
    expect(events()).toBe(before);
    expect((await derive(A.key, customerId)).body.data).toMatchObject(state);
  }

  it('a balance may reach the bound exactly', async () => {
    await record(A.key, TOP, '999999999999999.99999999');
    expect((await rawDelta(A.key, TOP, '0.00000001')).body.data.balanceAfter).toBe('1000000000000000.00');
    expect((await rawDelta(A.key, BOTTOM, '-1e15')).body.data.balanceAfter).toBe('-1000000000000000.00');
  });

  it('a delta past it → 409 balance_out_of_range, nothing recorded', async () => {
    const top = { computedBalance: '1000000000000000.00', deltaCount: 2 };
    await refused(() => record409(TOP, '0.00000001'), TOP, '1000000000000000.00', '1000000000000000.00000001', top);
    await refused(() => rawDelta(A.key, TOP, '1e15'), TOP, '1000000000000000.00', '2000000000000000.00', top);
    const bottom = { computedBalance: '-1000000000000000.00', deltaCount: 1 };
    await refused(() => rawDelta(A.key, BOTTOM, '-0.00000001'), BOTTOM, '-1000000000000000.00', '-1000000000000000.00000001', bottom);
    await refused(() => record409(BOTTOM, '-999999999999999.99999999'), BOTTOM, '-1000000000000000.00', '-1999999999999999.99999999', bottom);
  });

  it('the refusal does not use up an Idempotency-Key or a referenceId', async () => {
    const body = { customerId: TOP, delta: '1', reason: 'usage', referenceId: 'range-ref' };
    await refused(() => delta(A.key, body, { 'Idempotency-Key': 'range-key' }), TOP, '1000000000000000.00', '1000000000000001.00', { computedBalance: '1000000000000000.00', deltaCount: 2 });
    const back = await delta(A.key, { ...body, delta: '-1' }, { 'Idempotency-Key': 'range-key' });
    expect(back.status, back.text).toBe(201);
    expect(back.headers.get('idempotent-replayed')).toBeNull();
    expect(back.body.data).toMatchObject({ referenceId: 'range-ref', balanceAfter: '999999999999999.00' });
    // Back inside the range, a delta up to the bound is fine again.
    expect((await record(A.key, TOP, '1')).balanceAfter).toBe('1000000000000000.00');
  });

  it('every derived balance is an amount compare accepts, as a string and as a number', async () => {
    for (const [customerId, balance] of [[TOP, '1000000000000000.00'], [BOTTOM, '-1000000000000000.00']] as const) {
      expect((await derive(A.key, customerId)).body.data.computedBalance).toBe(balance);
      const asString = await compare(A.key, { customerId, yourBalance: balance, theirBalance: balance });
      expect(asString.status, asString.text).toBe(200);
      expect(asString.body.data).toMatchObject({ computedBalance: balance, expectedBalance: balance, matchesYours: true, matchesTheirs: true, discrepancy: '0.00' });
      const number = balance.startsWith('-') ? '-1000000000000000' : '1000000000000000';
      const asNumber = await postRaw('/api/v1/balance/compare', A.key, `{"customerId":"${customerId}","yourBalance":${number},"theirBalance":${number}.00,"startingBalance":0}`);
      expect(asNumber.body.data).toMatchObject({ matchesYours: true, matchesTheirs: true });
    }
    // The extremes of a comparison are exact too: 2 × 10^15 apart.
    const apart = await compare(A.key, { customerId: TOP, yourBalance: '-1000000000000000', theirBalance: '1000000000000000', startingBalance: '1000000000000000' });
    expect(apart.body.data).toMatchObject({ expectedBalance: '2000000000000000.00', discrepancy: '-2000000000000000.00', yourDiscrepancy: '-3000000000000000.00', theirDiscrepancy: '-1000000000000000.00' });
  });
});

// ---------------------------------------------------------------- idempotency

describe('Idempotency-Key', () => {
  const body = { customerId: 'idem-1', delta: '25.50', reason: 'usage', referenceId: 'idem-ref-1', metadata: { line: '1' } };
  let first: TestResponse;

  it('the first request is recorded and answered normally', async () => {
    const before = events();
    first = await delta(A.key, body, { 'Idempotency-Key': 'key-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(events()).toBe(before + 1);
  });

  it('the same key and body replays the first response, marked, and records nothing', async () => {
    const before = events();
    const again = await delta(A.key, body, { 'Idempotency-Key': 'key-1' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(events()).toBe(before);
    expect((await derive(A.key, 'idem-1')).body.data).toMatchObject({ computedBalance: '25.50', deltaCount: 1 });
  });

  it('the body is compared as understood: member order, whitespace and how the amount is written do not matter', async () => {
    const raw = '{ "metadata": {"line": "1"}, "reason": "usage", "referenceId": "idem-ref-1", "delta": 25.5, "customerId": "idem-1" }';
    const again = await postRaw('/api/v1/balance/delta', A.key, raw, { 'Idempotency-Key': 'key-1' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    // No metadata and empty metadata are the same delta (its leaf holds {} either way).
    const bare = { customerId: 'idem-8', delta: '1', reason: 'usage' };
    const one = await delta(A.key, bare, { 'Idempotency-Key': 'key-8' });
    const two = await delta(A.key, { ...bare, metadata: {} }, { 'Idempotency-Key': 'key-8' });
    expect(two.headers.get('idempotent-replayed')).toBe('true');
    expect(two.text).toBe(one.text);
  });

  it('the replay is the first response even after the delta is confirmed and checkpointed', async () => {
    sb.services.clock.advance(CONFIRMATION_MS);
    expect((await checkpoint(A.key, 'idem-1')).status).toBe(201);
    expect((await receipt(A.key, first.body.data.receiptId)).body.data).toMatchObject({ status: 'confirmed', checkpointId: expect.stringMatching(CHECKPOINT_ID) });
    const again = await delta(A.key, body, { 'Idempotency-Key': 'key-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.body.data).toMatchObject({ status: 'recorded', confirmedAt: null, checkpointId: null, inclusionProof: null });
  });

  it('the same key with another body → 409 idempotency_key_reused, nothing recorded', async () => {
    for (const other of [{ ...body, delta: '25.51' }, { ...body, customerId: 'idem-2' }, { ...body, metadata: {} }]) {
      const before = events();
      problem(await delta(A.key, other, { 'Idempotency-Key': 'key-1' }), 409, 'idempotency_key_reused', '/api/v1/balance/delta');
      expect(events()).toBe(before);
    }
    expect((await derive(A.key, 'idem-2')).body.data.deltaCount).toBe(0);
  });

  it('a refused request does not use its key up', async () => {
    problem(await rawDelta(A.key, 'idem-3', '0.000000001', { 'Idempotency-Key': 'key-2' }), 422, 'validation_failed');
    const res = await rawDelta(A.key, 'idem-3', '0.1', { 'Idempotency-Key': 'key-2' });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a new key with a used referenceId is still a duplicate reference', async () => {
    const res = await delta(A.key, body, { 'Idempotency-Key': 'key-3' });
    problem(res, 409, 'duplicate_reference');
    expect(res.body.receiptId).toBe(first.body.data.receiptId);
  });

  it('keys are scoped to the tenant and the environment', async () => {
    // Another tenant, the same key and body: its own, independent delta.
    const other = await delta(B.key, body, { 'Idempotency-Key': 'key-1' });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.body.data.receiptId).not.toBe(first.body.data.receiptId);
    // Another key of the same tenant and environment shares the scope: a replay.
    const sameTenant = await A.client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'second' } });
    const replay = await delta({ 'X-Api-Key': sameTenant.body.data.fullKey }, body, { 'Idempotency-Key': 'key-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.data.receiptId).toBe(first.body.data.receiptId);
    // The same tenant's other environment is independent too.
    const t = await delta(demoTest, body, { 'Idempotency-Key': 'key-env' });
    const l = await delta(demoLive, body, { 'Idempotency-Key': 'key-env' }, sb.productionApi);
    expect([t.status, l.status]).toEqual([201, 201]);
    expect(l.headers.get('idempotent-replayed')).toBeNull();
    expect([t.body.data.environment, l.body.data.environment]).toEqual(['test', 'live']);
    expect(l.body.data.sequence).toBe(1);
  });

  it('while the first request with a key is still being committed → 409 idempotency_request_in_progress', async () => {
    const store = sb.services.store;
    const commit = store.commit;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The journal write of the next request takes a while.
    let holdNext = true;
    store.commit = async (...e) => {
      const done = commit(...e);
      if (holdNext) {
        holdNext = false;
        await held;
      }
      return done;
    };
    try {
      const before = events();
      const slow = delta(A.key, { ...body, customerId: 'idem-4', referenceId: 'idem-ref-4' }, { 'Idempotency-Key': 'key-4' });
      while (events() === before) await new Promise((r) => setTimeout(r, 5));
      for (const b of [{ ...body, customerId: 'idem-4', referenceId: 'idem-ref-4' }, { ...body, customerId: 'idem-5' }]) {
        problem(await delta(A.key, b, { 'Idempotency-Key': 'key-4' }), 409, 'idempotency_request_in_progress');
      }
      // Other keys are not held up.
      expect((await delta(A.key, { customerId: 'idem-6', delta: '1', reason: 'usage' }, { 'Idempotency-Key': 'key-5' })).status).toBe(201);
      release();
      const answered = await slow;
      expect(answered.status).toBe(201);
      const replay = await delta(A.key, { ...body, customerId: 'idem-4', referenceId: 'idem-ref-4' }, { 'Idempotency-Key': 'key-4' });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.text).toBe(answered.text);
    } finally {
      release();
      store.commit = commit;
    }
  });

  it('concurrent retries with one key record the delta once', async () => {
    const before = events();
    const b = { customerId: 'idem-7', delta: '1', reason: 'usage' };
    const all = await Promise.all(Array.from({ length: 20 }, () => delta(A.key, b, { 'Idempotency-Key': 'key-7' })));
    const recorded = all.filter((r) => r.status === 201);
    expect(new Set(recorded.map((r) => r.body.data.receiptId)).size).toBe(1);
    expect(recorded.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    for (const r of all.filter((x) => x.status !== 201)) problem(r, 409, 'idempotency_request_in_progress');
    expect(events()).toBe(before + 1);
    expect((await derive(A.key, 'idem-7')).body.data).toMatchObject({ computedBalance: '1.00', deltaCount: 1 });
  });
});

// ---------------------------------------------------------------- referenceId

describe('referenceId', () => {
  it('a repeated referenceId for the customer → 409 duplicate_reference naming the original receipt', async () => {
    const original = await record(A.key, 'ref-1', '10', { referenceId: 'inv-2026-06-line-1' });
    const before = events();
    const res = await delta(A.key, { customerId: 'ref-1', delta: '99', reason: 'other', referenceId: 'inv-2026-06-line-1' });
    problem(res, 409, 'duplicate_reference', '/api/v1/balance/delta');
    expect(res.body.receiptId).toBe(original.receiptId);
    expect(res.body.detail).toBe(`referenceId inv-2026-06-line-1 is already recorded for customer ref-1 in receipt ${original.receiptId}.`);
    expect(events()).toBe(before);
    expect((await derive(A.key, 'ref-1')).body.data).toMatchObject({ computedBalance: '10.00', deltaCount: 1 });
  });

  it('is per customer, tenant and environment', async () => {
    const again = { delta: '1', reason: 'usage', referenceId: 'inv-2026-06-line-1' };
    expect((await delta(A.key, { customerId: 'ref-2', ...again })).status).toBe(201);
    expect((await delta(B.key, { customerId: 'ref-1', ...again })).status).toBe(201);
  });

  it('deltas without a referenceId never collide', async () => {
    await record(A.key, 'ref-3', '1');
    const second = await record(A.key, 'ref-3', '1');
    expect(second).toMatchObject({ referenceId: null, sequence: 2 });
  });
});

// ---------------------------------------------------------------- compare

describe('compare', () => {
  beforeAll(async () => {
    await record(A.key, 'cmp-1', '0.1');
    await record(A.key, 'cmp-1', '0.2');
  });

  it('without customerId: the two views compared with each other', async () => {
    const equal = await postRaw('/api/v1/balance/compare', A.key, '{"yourBalance":100.00,"theirBalance":"100"}');
    expect(equal.body.data).toEqual({
      customerId: null,
      startingBalance: '0.00',
      yourBalance: '100.00',
      theirBalance: '100.00',
      computedBalance: null,
      expectedBalance: null,
      matchesYours: true,
      matchesTheirs: true,
      discrepancy: '0.00',
      yourDiscrepancy: null,
      theirDiscrepancy: null,
    });
    const apart = await compare(A.key, { yourBalance: '100.00', theirBalance: '99.50', startingBalance: '5' });
    expect(apart.body.data).toMatchObject({ startingBalance: '5.00', matchesYours: false, matchesTheirs: false, discrepancy: '0.50', computedBalance: null });
    expect((await compare(A.key, { yourBalance: '99.50', theirBalance: '100.00' })).body.data.discrepancy).toBe('-0.50');
  });

  it('the discrepancy is exact at any size', async () => {
    const res = await postRaw('/api/v1/balance/compare', A.key, '{"yourBalance":999999999999999.99999999,"theirBalance":"-999999999999999.99999999"}');
    expect(res.body.data).toMatchObject({ discrepancy: '1999999999999999.99999998', matchesYours: false });
    const tiny = await postRaw('/api/v1/balance/compare', A.key, '{"yourBalance":0.3,"theirBalance":0.29999999}');
    expect(tiny.body.data.discrepancy).toBe('0.00000001');
  });

  it('with customerId: both views against the ledger (0.1 + 0.2 is exactly 0.30)', async () => {
    const res = await postRaw('/api/v1/balance/compare', A.key, '{"customerId":"cmp-1","yourBalance":0.3,"theirBalance":"0.29999999"}');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      customerId: 'cmp-1',
      startingBalance: '0.00',
      yourBalance: '0.30',
      theirBalance: '0.29999999',
      computedBalance: '0.30',
      expectedBalance: '0.30',
      matchesYours: true,
      matchesTheirs: false,
      discrepancy: '0.00000001',
      yourDiscrepancy: '0.00',
      theirDiscrepancy: '-0.00000001',
    });
  });

  it('startingBalance is added to the derived balance', async () => {
    const res = await compare(A.key, { customerId: 'cmp-1', yourBalance: '10.30', theirBalance: '10.3', startingBalance: '10' });
    expect(res.body.data).toMatchObject({ computedBalance: '0.30', expectedBalance: '10.30', matchesYours: true, matchesTheirs: true, yourDiscrepancy: '0.00', theirDiscrepancy: '0.00' });
  });

  it('a customer with no deltas has a ledger balance of 0.00; another tenant\'s ledger is not seen', async () => {
    const res = await compare(B.key, { customerId: 'cmp-1', yourBalance: '0.3', theirBalance: '0' });
    expect(res.body.data).toMatchObject({ computedBalance: '0.00', expectedBalance: '0.00', matchesYours: false, matchesTheirs: true, yourDiscrepancy: '0.30' });
  });

  it('stores nothing', async () => {
    const before = events();
    await compare(A.key, { customerId: 'cmp-1', yourBalance: '1', theirBalance: '1' });
    expect(events()).toBe(before);
  });
});

// ---------------------------------------------------------------- checkpoints, receipts, verify

describe('checkpoints, receipts and the public verify', () => {
  let r: any[] = [];
  let cp1: any;
  let cp2: any;

  it('nothing recorded → 409 nothing_to_checkpoint, never an empty root', async () => {
    const before = events();
    const res = await checkpoint(A.key, 'chk-1');
    problem(res, 409, 'nothing_to_checkpoint', '/api/v1/balance/checkpoint');
    expect(res.body.detail).toBe('Customer chk-1 has no deltas since its last checkpoint.');
    expect(events()).toBe(before);
  });

  it('a receipt before any checkpoint: recorded, no proof; confirmed once the delay has passed', async () => {
    r = [await record(A.key, 'chk-1', '10'), await record(A.key, 'chk-1', '-2.5'), await record(A.key, 'chk-1', '0.25')];
    const got = await receipt(A.key, r[0].receiptId);
    expect(got.body).toEqual({ statusCode: 200, data: r[0] });
    expect((await derive(A.key, 'chk-1')).body.data).toMatchObject({ deltaCount: 3, confirmedCount: 0, computedBalance: '7.75' });
    sb.services.clock.advance(CONFIRMATION_MS);
    const confirmed = await receipt(A.key, r[0].receiptId);
    expect(confirmed.body.data).toEqual({
      ...r[0],
      status: 'confirmed',
      confirmedAt: new Date(new Date(r[0].createdAt).getTime() + CONFIRMATION_MS).toISOString(),
    });
    expect((await derive(A.key, 'chk-1')).body.data.confirmedCount).toBe(3);
  });

  it('the first checkpoint covers every delta so far', async () => {
    const before = events();
    const res = await checkpoint(A.key, 'chk-1');
    expect(res.status).toBe(201);
    cp1 = res.body.data;
    expect(cp1).toEqual({
      checkpointId: expect.stringMatching(CHECKPOINT_ID),
      customerId: 'chk-1',
      proofRoot: expect.stringMatching(HEX64),
      previousProofRoot: null,
      algorithm: 'rfc6962-sha256-jcs-v1',
      deltaCount: 3,
      firstSequence: 1,
      lastSequence: 3,
      openingBalance: '0.00',
      closingBalance: '7.75',
      environment: 'test',
      createdAt: expect.any(String),
    });
    expect(events()).toBe(before + 1);
    problem(await checkpoint(A.key, 'chk-1'), 409, 'nothing_to_checkpoint');
    expect(events()).toBe(before + 1);
  });

  it('the next checkpoint covers only the deltas since, and chains to the previous root', async () => {
    r.push(await record(A.key, 'chk-1', '1'), await record(A.key, 'chk-1', '1.5'));
    const res = await checkpoint(A.key, 'chk-1');
    cp2 = res.body.data;
    expect(cp2).toMatchObject({ previousProofRoot: cp1.proofRoot, deltaCount: 2, firstSequence: 4, lastSequence: 5, openingBalance: '7.75', closingBalance: '10.25' });
    // Two leaves: the root is node(leaf4, leaf5).
    const node = sha256(Buffer.concat([Buffer.from([1]), Buffer.from(r[3].leafHash, 'hex'), Buffer.from(r[4].leafHash, 'hex')]));
    expect(cp2.proofRoot).toBe(node.toString('hex'));
    expect((await derive(A.key, 'chk-1')).body.data.lastCheckpoint).toEqual({
      checkpointId: cp2.checkpointId,
      proofRoot: cp2.proofRoot,
      lastSequence: 5,
      createdAt: cp2.createdAt,
    });
  });

  it('receipts carry their inclusion proof once checkpointed', async () => {
    const fourth = (await receipt(A.key, r[3].receiptId)).body.data;
    expect(fourth.checkpointId).toBe(cp2.checkpointId);
    expect(fourth.inclusionProof).toEqual({ checkpointId: cp2.checkpointId, proofRoot: cp2.proofRoot, leafIndex: 0, treeSize: 2, auditPath: [r[4].leafHash] });
    const third = (await receipt(A.key, r[2].receiptId)).body.data;
    expect(third.inclusionProof).toMatchObject({ checkpointId: cp1.checkpointId, leafIndex: 2, treeSize: 3, auditPath: [expect.stringMatching(HEX64)] });
  });

  it('a checkpoint by id, and its receipts page by page in leaf order', async () => {
    expect((await sb.sandboxApi.get(`/api/v1/checkpoints/${cp1.checkpointId}`, { headers: A.key })).body).toEqual({ statusCode: 200, data: cp1 });
    const all = await sb.sandboxApi.get(`/api/v1/checkpoints/${cp1.checkpointId}/receipts`, { headers: readOnly });
    expect(all.body.data).toMatchObject({ total: 3, page: 1, limit: 100 });
    expect(all.body.data.items.map((x: any) => x.sequence)).toEqual([1, 2, 3]);
    expect(all.body.data.items[0]).toEqual((await receipt(A.key, r[0].receiptId)).body.data);
    const page2 = await sb.sandboxApi.get(`/api/v1/checkpoints/${cp1.checkpointId}/receipts?page=2&limit=2`, { headers: A.key });
    expect(page2.body.data).toMatchObject({ total: 3, page: 2, limit: 2 });
    expect(page2.body.data.items.map((x: any) => x.receiptId)).toEqual([r[2].receiptId]);
    const past = await sb.sandboxApi.get(`/api/v1/checkpoints/${cp1.checkpointId}/receipts?page=3&limit=2`, { headers: A.key });
    expect(past.body.data).toEqual({ items: [], total: 3, page: 3, limit: 2 });
  });

  it('verify is public and answers what the root covers', async () => {
    const res = await sb.sandboxApi.get(`/api/v1/verify/${cp1.proofRoot}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, data: { proofRoot: cp1.proofRoot, verified: true, checkpoint: cp1 } });
    // A key is not needed, and an invalid one does not matter.
    expect((await sb.sandboxApi.get(`/api/v1/verify/${cp2.proofRoot}`, { headers: { 'X-Api-Key': 'nonsense' } })).body.data.checkpoint).toEqual(cp2);
  });

  it('verify answers for its own environment only', async () => {
    problem(await sb.productionApi.get(`/api/v1/verify/${cp1.proofRoot}`), 404, 'not_found');
    await record(demoTest, 'env-1', '1');
    expect((await delta(demoLive, { customerId: 'env-1', delta: '2', reason: 'usage' }, {}, sb.productionApi)).status).toBe(201);
    const live = (await checkpoint(demoLive, 'env-1', sb.productionApi)).body.data;
    expect(live).toMatchObject({ environment: 'live', closingBalance: '2.00', deltaCount: 1 });
    expect((await sb.productionApi.get(`/api/v1/verify/${live.proofRoot}`)).body.data.checkpoint).toEqual(live);
    problem(await sb.sandboxApi.get(`/api/v1/verify/${live.proofRoot}`), 404, 'not_found');
  });

  it('another tenant\'s or environment\'s receipts and checkpoints are 404, and its ledgers separate', async () => {
    const paths = [`/api/v1/receipts/${r[0].receiptId}`, `/api/v1/checkpoints/${cp1.checkpointId}`, `/api/v1/checkpoints/${cp1.checkpointId}/receipts`];
    for (const path of paths) {
      problem(await sb.sandboxApi.get(path, { headers: B.key }), 404, 'not_found', path);
      problem(await sb.sandboxApi.get(path, { headers: demoTest }), 404, 'not_found', path);
    }
    const testReceipt = (await derive(demoTest, 'env-1')).body.data;
    expect(testReceipt).toMatchObject({ computedBalance: '1.00', deltaCount: 1 });
    expect((await derive(demoLive, 'env-1', sb.productionApi)).body.data).toMatchObject({ computedBalance: '2.00', deltaCount: 1 });
    const liveCp = (await derive(demoLive, 'env-1', sb.productionApi)).body.data.lastCheckpoint;
    problem(await sb.sandboxApi.get(`/api/v1/checkpoints/${liveCp.checkpointId}`, { headers: demoTest }), 404, 'not_found');
    problem(await sb.productionApi.get(`/api/v1/receipts/${r[0].receiptId}`, { headers: demoLive }), 404, 'not_found');
    expect((await derive(B.key, 'chk-1')).body.data).toEqual({
      customerId: 'chk-1',
      computedBalance: '0.00',
      deltaCount: 0,
      confirmedCount: 0,
      firstDeltaAt: null,
      lastDeltaAt: null,
      lastCheckpoint: null,
    });
    problem(await checkpoint(B.key, 'chk-1'), 409, 'nothing_to_checkpoint');
  });
});

// ---------------------------------------------------------------- webhook announcements

describe('announcements for webhooks', () => {
  it('delta.recorded with the receipt, delta.confirmed at confirmAt, checkpoint.created with the checkpoint', async () => {
    const seen: Announcement[] = [];
    const outbound = sb.services.webhooks;
    const announce = outbound.announce;
    outbound.announce = (a) => {
      // Other customers' deltas may be confirmed by the same clock move.
      if ((a.data as { customerId?: string }).customerId === 'hook-1') seen.push(a);
      return announce(a);
    };
    try {
      const rec = await record(A.key, 'hook-1', '3');
      // Announced by a request: its id goes with the event (the inspector links the deliveries to it).
      expect(seen).toEqual([{ type: 'delta.recorded', tenantId: A.tenantId, environment: 'test', at: expect.any(Number), data: rec, requestId: expect.stringMatching(/^req_/) }]);
      sb.services.clock.advance(CONFIRMATION_MS);
      // The announcement is background work (the scheduler's), not part of the clock move: wait for it.
      await waitFor(() => seen.length >= 2, 'the confirmation to be announced');
      const confirmed = (await receipt(A.key, rec.receiptId)).body.data;
      expect(seen[1]).toEqual({
        type: 'delta.confirmed',
        tenantId: A.tenantId,
        environment: 'test',
        at: new Date(confirmed.confirmedAt).getTime(),
        data: { ...rec, status: 'confirmed', confirmedAt: confirmed.confirmedAt },
      });
      const cp = (await checkpoint(A.key, 'hook-1')).body.data;
      expect(seen[2]).toEqual({ type: 'checkpoint.created', tenantId: A.tenantId, environment: 'test', at: new Date(cp.createdAt).getTime(), data: cp, requestId: expect.stringMatching(/^req_/) });
      expect(seen).toHaveLength(3);
      // Refused requests announce nothing.
      await delta(A.key, { customerId: 'hook-1', delta: 'x', reason: 'usage' });
      await checkpoint(A.key, 'hook-1');
      expect(seen).toHaveLength(3);
    } finally {
      outbound.announce = announce;
    }
  });
  it('resumeLedger re-arms the confirmations still due (after a journal replay the timers are gone)', async () => {
    const seen: Announcement[] = [];
    const outbound = sb.services.webhooks;
    const announce = outbound.announce;
    outbound.announce = (a) => {
      if ((a.data as { customerId?: string }).customerId === 'hook-2') seen.push(a);
      return announce(a);
    };
    try {
      const rec = await record(A.key, 'hook-2', '1');
      expect(seen.map((a) => a.type)).toEqual(['delta.recorded']);
      // As in a fresh process that replayed its journal: nothing is armed until resumed.
      sb.services.scheduler.clear();
      resumeLedger(sb.services);
      sb.services.clock.advance(CONFIRMATION_MS);
      // The re-armed announcement is background work (the scheduler's): wait for it.
      await waitFor(() => seen.length >= 2, 'the confirmation to be announced');
      expect(seen.map((a) => [a.type, (a.data as { receiptId: string }).receiptId])).toEqual([
        ['delta.recorded', rec.receiptId],
        ['delta.confirmed', rec.receiptId],
      ]);
    } finally {
      outbound.announce = announce;
    }
  });
});

// ---------------------------------------------------------------- concurrency

describe('concurrency', () => {
  it('200 parallel deltas for one customer: each recorded once, sequences 1..200, balance exact', async () => {
    const before = events();
    const amounts = Array.from({ length: 200 }, (_, i) => `${i + 1}.01`);
    const all = await Promise.all(amounts.map((amount) => delta(C.key, { customerId: 'parallel-1', delta: amount, reason: 'usage' })));
    for (const res of all) expect(res.status, res.text).toBe(201);
    const receipts = all.map((res) => res.body.data).sort((x, y) => x.sequence - y.sequence);
    expect(receipts.map((x) => x.sequence)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(receipts.map((x) => x.receiptId)).size).toBe(200);
    expect(receipts.map((x) => x.delta).sort()).toEqual([...amounts].sort());
    // Every balanceAfter is the exact running sum in sequence order (cents, as integers).
    let cents = 0;
    for (const x of receipts) {
      cents += Math.round(Number(x.delta) * 100);
      expect(x.balanceAfter).toBe(`${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`);
    }
    // 200 deltas, and the first use of C's key (api_key.used: at most one a minute, mock/domain/api-key-use.ts).
    expect(events()).toBe(before + 201);
    expect((await derive(C.key, 'parallel-1')).body.data).toMatchObject({ computedBalance: '20102.00', deltaCount: 200 });
  });
});

// ---------------------------------------------------------------- last: moves the clock a day

describe('idempotency keys expire', () => {
  it('after 24 hours a key may be used again', async () => {
    const body = { customerId: 'idem-exp', delta: '1', reason: 'usage' };
    expect((await delta(A.key, body, { 'Idempotency-Key': 'key-exp' })).status).toBe(201);
    problem(await delta(A.key, { ...body, delta: '2' }, { 'Idempotency-Key': 'key-exp' }), 409, 'idempotency_key_reused');
    sb.services.clock.advance(24 * 60 * 60 * 1000);
    const fresh = await delta(A.key, { ...body, delta: '2' }, { 'Idempotency-Key': 'key-exp' });
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect((await derive(A.key, 'idem-exp')).body.data.computedBalance).toBe('3.00');
  });
});
