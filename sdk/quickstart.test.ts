// The whole quick start through the SDK, against a real sandbox on loopback ports: log in with
// the dashboard client, create the quick start's key, find the Sandbox URL, then the "Using the
// SDK" section verbatim — emit, derive (100.00), compare (matchesYours), checkpoint (proofRoot) —
// and verify the proof root without a key. Every response is checked against the contract.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { PacSpace, PacSpaceDashboard, verifyProofRoot, type Checkpoint, type Receipt } from './index.ts';
import { recordingFetch } from './test-helpers.ts';

const HEX64 = /^[0-9a-f]{64}$/;
let sb: TestSandbox;
const fetch = recordingFetch();

beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(async () => {
  await sb?.close();
});

describe('the quick start, through the SDK', () => {
  let dashboard: PacSpaceDashboard;
  let fullKey: string;
  let sandboxUrl: string;
  let pac: PacSpace;
  let delta: Receipt;
  let checkpoint: Checkpoint;

  it('Step 2: logs in with a cookie session and creates an API key', async () => {
    dashboard = new PacSpaceDashboard({ baseUrl: sb.productionUrl, fetch });
    expect(dashboard.hasSession).toBe(false);
    const user = await dashboard.auth.login(sb.demo!.email, sb.demo!.password);
    expect(user).toMatchObject({ email: sb.demo!.email, isVerified: true });
    expect(dashboard.hasSession).toBe(true);

    const created = await dashboard.apiKeys.create({ name: 'quickstart-key' });
    expect(created).toMatchObject({ name: 'quickstart-key', environment: 'test', active: true, permissions: ['balance:read', 'balance:write'] });
    fullKey = created.fullKey;
    expect(fullKey).toMatch(/^pk_test_[A-Za-z0-9]+\.sk_test_[A-Za-z0-9]+$/);

    // The session cookies went back, and the unsafe request carried the CSRF header; the GET did not need it.
    const create = fetch.sent.find((r) => r.method === 'POST' && r.url.endsWith('/dashboard/api-keys'))!;
    expect(create.headers.get('x-pacspace-csrf')).toBe('1');
    expect(create.headers.get('cookie')).toMatch(/pacspace_access=/);
    expect(create.headers.get('cookie')).not.toMatch(/pacspace_refresh=/); // scoped to /dashboard/auth
  });

  it('Step 3: the environment is active; its apiBaseUrl is the Sandbox URL', async () => {
    const environments = await dashboard.environments.list();
    const sandbox = environments.find((e) => e.environment === 'testnet')!;
    expect(sandbox).toMatchObject({ status: 'active', keyEnvironment: 'test', apiBaseUrl: sb.sandboxUrl });
    sandboxUrl = sandbox.apiBaseUrl;
    const list = fetch.sent.find((r) => r.method === 'GET' && r.url.endsWith('/dashboard/environments'))!;
    expect(list.headers.has('x-pacspace-csrf')).toBe(false);
  });

  it('the SDK picks the sandbox from the pk_test_ prefix', () => {
    pac = new PacSpace({ apiKey: fullKey, sandboxUrl, fetch });
    expect(pac.environment).toBe('test');
    expect(pac.baseUrl).toBe(sb.sandboxUrl);
  });

  it('Step 3: emit a delta → the receipt (the envelope’s data)', async () => {
    delta = await pac.balance.emit('customer_001', 100.0, 'initial-deposit', {
      referenceId: 'txn-quickstart-001',
      metadata: { source: 'quickstart-guide' },
    });
    expect(delta).toEqual({
      receiptId: expect.stringMatching(/^rcpt_[A-Za-z0-9]+$/),
      customerId: 'customer_001',
      sequence: 1,
      delta: '100.00',
      balanceAfter: '100.00',
      reason: 'initial-deposit',
      referenceId: 'txn-quickstart-001',
      metadata: { source: 'quickstart-guide' },
      status: 'recorded',
      leafHash: expect.stringMatching(HEX64),
      environment: 'test',
      createdAt: expect.any(String),
      confirmedAt: null,
      checkpointId: null,
      inclusionProof: null,
    });
    const sent = fetch.sent.at(-1)!;
    expect(sent.headers.get('x-api-key')).toBe(fullKey);
    expect(sent.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(JSON.parse(sent.body)).toEqual({
      customerId: 'customer_001',
      delta: 100,
      reason: 'initial-deposit',
      referenceId: 'txn-quickstart-001',
      metadata: { source: 'quickstart-guide' },
    });
  });

  it('Step 4: derive → computedBalance 100.00', async () => {
    const { computedBalance } = await pac.balance.derive('customer_001');
    expect(computedBalance).toBe('100.00');
  });

  it('Step 5: compare → matchesYours', async () => {
    const report = await pac.balance.compare('customer_001', { yours: 100.0, theirs: 100.0 }, { startingBalance: 0 });
    expect(report.matchesYours).toBe(true);
    expect(report).toMatchObject({ customerId: 'customer_001', matchesTheirs: true, discrepancy: '0.00', computedBalance: '100.00', expectedBalance: '100.00' });
  });

  it('Step 5: compare without a customer compares the two views (and reports the exact discrepancy)', async () => {
    expect(await pac.balance.compare(null, { yours: '100.00', theirs: '99.90' })).toMatchObject({
      customerId: null,
      computedBalance: null,
      matchesYours: false,
      matchesTheirs: false,
      discrepancy: '0.10',
    });
    expect((await pac.balance.compare(undefined, { yours: 100, theirs: '100.00' }, { startingBalance: 0 })).matchesYours).toBe(true);
    expect(JSON.parse(fetch.sent.at(-1)!.body)).toEqual({ yourBalance: 100, theirBalance: '100.00', startingBalance: 0 });
  });

  it('Step 6: checkpoint → a proof root over the period', async () => {
    checkpoint = await pac.balance.checkpoint('customer_001');
    expect(checkpoint.proofRoot).toMatch(HEX64);
    expect(checkpoint).toMatchObject({ customerId: 'customer_001', deltaCount: 1, closingBalance: '100.00', previousProofRoot: null });
    // One delta: the root is its leaf hash.
    expect(checkpoint.proofRoot).toBe(delta.leafHash);
  });

  it('verify: public, sent without the API key', async () => {
    const verified = await pac.verify(checkpoint.proofRoot);
    expect(verified).toEqual({ proofRoot: checkpoint.proofRoot, verified: true, checkpoint });
    const sent = fetch.sent.at(-1)!;
    expect(sent.url).toBe(`${sb.sandboxUrl}/api/v1/verify/${checkpoint.proofRoot}`);
    expect(sent.headers.has('x-api-key')).toBe(false);
    // A counterparty without any key.
    expect(await verifyProofRoot(checkpoint.proofRoot, { baseUrl: sandboxUrl, fetch })).toEqual(verified);
  });

  it('receipts and checkpoint listings: the receipt carries its inclusion proof', async () => {
    const receipt = await pac.receipts.get(delta.receiptId);
    expect(receipt.inclusionProof).toEqual({ checkpointId: checkpoint.checkpointId, proofRoot: checkpoint.proofRoot, leafIndex: 0, treeSize: 1, auditPath: [] });
    expect(await pac.checkpoints.get(checkpoint.checkpointId)).toEqual(checkpoint);
    const page = await pac.checkpoints.listReceipts(checkpoint.checkpointId);
    expect(page).toMatchObject({ total: 1, page: 1 });
    expect(page.items.map((r) => r.receiptId)).toEqual([delta.receiptId]);
  });

  it('allReceipts walks every page; the leaves recompute the root', async () => {
    for (let i = 0; i < 5; i++) await pac.balance.emit('customer_002', '0.1', 'usage', { referenceId: `txn-${i}` });
    const cp = await pac.balance.checkpoint('customer_002');
    const leaves: string[] = [];
    for await (const receipt of pac.checkpoints.allReceipts(cp.checkpointId, { limit: 2 })) leaves.push(receipt.leafHash);
    expect(leaves).toHaveLength(5);
    const pages = fetch.sent.filter((r) => r.url.includes(`/checkpoints/${cp.checkpointId}/receipts`));
    expect(pages.map((r) => new URL(r.url).search)).toEqual(['?page=1&limit=2', '?page=2&limit=2', '?page=3&limit=2']);
    // RFC 6962 over the five leaves (split at 4).
    const node = (l: string, r: string) => createHash('sha256').update(Buffer.concat([Buffer.from([1]), Buffer.from(l, 'hex'), Buffer.from(r, 'hex')])).digest('hex');
    const [a, b, c, d, e] = leaves as [string, string, string, string, string];
    expect(node(node(node(a, b), node(c, d)), e)).toBe(cp.proofRoot);
    expect((await pac.balance.derive('customer_002')).computedBalance).toBe('0.50');
  });

  it('dashboard.balanceClient builds the client from the account’s environments', async () => {
    const client = await dashboard.balanceClient(fullKey);
    expect(client.baseUrl).toBe(sb.sandboxUrl);
    expect((await client.balance.derive('customer_001')).computedBalance).toBe('100.00');
  });

  it('refresh rotates the session; logout ends it', async () => {
    const before = fetch.sent.length;
    const session = await dashboard.auth.refresh();
    expect(session).toEqual({ accessExpiresAt: expect.any(String), refreshExpiresAt: expect.any(String) });
    const refresh = fetch.sent[before]!;
    expect(refresh.headers.get('cookie')).toMatch(/pacspace_refresh=/);
    expect(refresh.headers.get('x-pacspace-csrf')).toBe('1');
    expect((await dashboard.auth.me()).email).toBe(sb.demo!.email);

    await dashboard.auth.logout();
    expect(dashboard.hasSession).toBe(false);
    await expect(dashboard.auth.me()).rejects.toMatchObject({ name: 'AuthenticationError', status: 401, code: 'unauthenticated' });
  });
});
