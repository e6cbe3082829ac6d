// Proofs, recomputed independently from what the API returns and the contract's Proofs
// section alone: this file has its own RFC 8785 canonicalization (for the strings, integers,
// nulls and objects a leaf holds), its own domain-separated SHA-256 leaf and node hashing, its
// own recursive RFC 6962 Merkle Tree Hash and audit paths, and its own RFC 9162 inclusion
// verification. Nothing here imports protocol/ or the sandbox's ledger code: a counterparty
// holding only the receipts must arrive at the same roots. Checkpoints of 1, 2, 3, 7, 8 and
// 100 deltas, chained, with receipts listed page by page over real HTTP.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

let sb: TestSandbox;
let key: Record<string, string>;
const unlimited = { capacity: 100_000, refillPerSecond: 100_000 };

beforeAll(async () => {
  // The plan limit is not under test here: 121 deltas in one month.
  sb = await startTestSandbox({ freePlanDeltas: 100_000, rateLimits: { client: unlimited, apiKey: unlimited } });
  key = { 'X-Api-Key': sb.demo!.apiKey };
});
afterAll(() => sb.close());

// ---------------------------------------------------------------- RFC 8785, by hand

/** RFC 8785 §3.2.2.2: the JSON string serialization (quote, backslash and C0 controls escaped). */
function jcsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };
    if (short[c]) out += short[c];
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** Orders member names by their UTF-16 code units (RFC 8785 §3.2.3). */
function byCodeUnits(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function jcs(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return jcsString(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('leaves hold integers only');
    return String(value);
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => byCodeUnits(a, b));
    return `{${entries.map(([k, v]) => `${jcsString(k)}:${jcs(v)}`).join(',')}}`;
  }
  throw new Error(`unexpected value in a leaf: ${typeof value}`);
}

// ---------------------------------------------------------------- RFC 6962 / 9162, by hand

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHashOf = (canonicalJson: string) => sha256(Buffer.from([0x00]), Buffer.from(canonicalJson, 'utf8'));
const nodeHashOf = (left: Buffer, right: Buffer) => sha256(Buffer.from([0x01]), left, right);

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 §2.1: MTH(D[n]). */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHashOf(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 6962 §2.1.1: PATH(m, D[n]), leaf side first. */
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.3.2: verifies an inclusion proof against a root. */
function verifyInclusion(leafIndex: number, treeSize: number, leaf: Buffer, auditPath: Buffer[], root: Buffer): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHashOf(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHashOf(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

const hex = (b: Buffer) => b.toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');

/** The Proofs section's leaf: exactly these members, with the receipt's values. */
function leafOf(receipt: any): string {
  return jcs({
    receiptId: receipt.receiptId,
    customerId: receipt.customerId,
    sequence: receipt.sequence,
    delta: receipt.delta,
    balanceAfter: receipt.balanceAfter,
    reason: receipt.reason,
    referenceId: receipt.referenceId,
    metadata: receipt.metadata,
    createdAt: receipt.createdAt,
  });
}

describe('the independent implementation itself', () => {
  it('canonicalizes as RFC 8785 does', () => {
    expect(jcs({ b: '1', a: { d: null, c: 2 }, B: 'x', _: '', '-': 'é', '0': '\u2028\u007f' })).toBe(
      '{"-":"é","0":"\u2028\u007f","B":"x","_":"","a":{"c":2,"d":null},"b":"1"}',
    );
    expect(jcsString('"\\\b\f\n\r\t\u0000\u001f/😀')).toBe('"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f/😀"');
  });

  it('verifies the paths it builds, and refuses tampered ones', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => leafHashOf(String(i)));
    const root = mth(leaves);
    for (let m = 0; m < leaves.length; m++) {
      const p = path(m, leaves);
      expect(verifyInclusion(m, leaves.length, leaves[m]!, p, root)).toBe(true);
      expect(verifyInclusion((m + 1) % 13, leaves.length, leaves[m]!, p, root)).toBe(false);
      if (p.length) expect(verifyInclusion(m, leaves.length, leaves[m]!, p.slice(1), root)).toBe(false);
    }
    // RFC 6962's example tree of 7 leaves: PATH(3) = [d2, hash(a,b), j].
    const seven = leaves.slice(0, 7);
    expect(path(3, seven).map(hex)).toEqual([hex(seven[2]!), hex(nodeHashOf(seven[0]!, seven[1]!)), hex(mth(seven.slice(4)))]);
  });
});

// ---------------------------------------------------------------- against the API

const REASONS = ['usage', 'initial-deposit', 'line "7" \\ back', 'tab\tnew\nline\u0001', 'café ☕ 😀', '\u2028 separators \u2029', 'ends with space '];
const METADATA: Array<Record<string, string> | undefined> = [
  undefined,
  { source: 'quickstart-guide', note: 'First delta!' },
  { b: 'lower', B: 'upper', _: 'underscore', '-': 'dash', '.': 'dot', '0': 'digit', a1: '"quoted"\\', 'a.b': 'é' },
  {},
  { z: '\u0000\u001f\u007f', Z: '😀' },
];

function amountOf(i: number): unknown {
  // A mix of strings and JSON numbers, signs, and 0 to 8 decimal places.
  const forms: unknown[] = [`${i}.5`, -(i % 7) - 0.25, `-${i}.12345678`, i * 3, `0.0000000${(i % 9) + 1}`, `${i * 1000}`];
  return forms[i % forms.length];
}

describe.each([1, 2, 3, 7, 8, 100])('a checkpoint of %i deltas', (size) => {
  const customerId = 'proofs-1';
  const recorded: any[] = [];
  let cp: any;

  it('records the deltas (interleaved with another customer\'s) and checkpoints them', async () => {
    const previous = (await sb.sandboxApi.get(`/api/v1/balance/derive/${customerId}`, { headers: key })).body.data.lastCheckpoint;
    for (let i = 0; i < size; i++) {
      const n = recorded.length + size * 1000 + i;
      const res = await sb.sandboxApi.post('/api/v1/balance/delta', {
        headers: key,
        json: {
          customerId,
          delta: amountOf(n),
          reason: REASONS[n % REASONS.length],
          ...(n % 3 === 0 ? {} : { referenceId: `ref-${size}-${i}-"\\~!` }),
          ...(METADATA[n % METADATA.length] ? { metadata: METADATA[n % METADATA.length] } : {}),
        },
      });
      expect(res.status, res.text).toBe(201);
      recorded.push(res.body.data);
      if (i % 3 === 1) {
        const noise = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: key, json: { customerId: 'proofs-noise', delta: '1', reason: 'noise' } });
        expect(noise.status).toBe(201);
      }
    }
    const res = await sb.sandboxApi.post('/api/v1/balance/checkpoint', { headers: key, json: { customerId } });
    expect(res.status).toBe(201);
    cp = res.body.data;
    expect(cp).toMatchObject({
      customerId,
      deltaCount: size,
      firstSequence: recorded[0].sequence,
      lastSequence: recorded[size - 1].sequence,
      closingBalance: recorded[size - 1].balanceAfter,
      previousProofRoot: previous ? previous.proofRoot : null,
      algorithm: 'rfc6962-sha256-jcs-v1',
    });
  });

  it('every leaf hash is the documented hash of the receipt', () => {
    for (const r of recorded) expect(hex(leafHashOf(leafOf(r)))).toBe(r.leafHash);
  });

  it('the root recomputed from the receipts listed page by page is the proofRoot, and every inclusion proof verifies', async () => {
    const listed: any[] = [];
    const limit = 7;
    for (let page = 1; ; page++) {
      const res = await sb.sandboxApi.get(`/api/v1/checkpoints/${cp.checkpointId}/receipts?page=${page}&limit=${limit}`, { headers: key });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ total: size, page, limit });
      listed.push(...res.body.data.items);
      if (res.body.data.items.length < limit) break;
    }
    expect(listed.map((r) => r.receiptId)).toEqual(recorded.map((r) => r.receiptId));
    expect(listed.map((r) => r.sequence)).toEqual(Array.from({ length: size }, (_, i) => cp.firstSequence + i));

    const leaves = listed.map((r) => leafHashOf(leafOf(r)));
    expect(leaves.map(hex)).toEqual(listed.map((r) => r.leafHash));
    const root = mth(leaves);
    expect(hex(root)).toBe(cp.proofRoot);

    for (const [i, r] of listed.entries()) {
      expect(r.checkpointId).toBe(cp.checkpointId);
      const proof = r.inclusionProof;
      expect(proof).toEqual({ checkpointId: cp.checkpointId, proofRoot: cp.proofRoot, leafIndex: i, treeSize: size, auditPath: path(i, leaves).map(hex) });
      expect(verifyInclusion(proof.leafIndex, proof.treeSize, unhex(r.leafHash), proof.auditPath.map(unhex), unhex(cp.proofRoot))).toBe(true);
      // The same proof when the receipt is fetched by id.
      const got = await sb.sandboxApi.get(`/api/v1/receipts/${r.receiptId}`, { headers: key });
      expect(got.body.data.inclusionProof).toEqual(proof);
    }
  });

  it('the public verify confirms the root', async () => {
    const res = await sb.sandboxApi.get(`/api/v1/verify/${cp.proofRoot}`);
    expect(res.body.data).toEqual({ proofRoot: cp.proofRoot, verified: true, checkpoint: cp });
  });
});

describe('the chain', () => {
  it('each checkpoint names its predecessor, and the periods tile the ledger', async () => {
    const derived = (await sb.sandboxApi.get('/api/v1/balance/derive/proofs-1', { headers: key })).body.data;
    expect(derived.deltaCount).toBe(1 + 2 + 3 + 7 + 8 + 100);
    let cp = (await sb.sandboxApi.get(`/api/v1/checkpoints/${derived.lastCheckpoint.checkpointId}`, { headers: key })).body.data;
    const sizes: number[] = [];
    while (cp) {
      sizes.unshift(cp.deltaCount);
      if (!cp.previousProofRoot) break;
      const prev = (await sb.sandboxApi.get(`/api/v1/verify/${cp.previousProofRoot}`)).body.data.checkpoint;
      expect(prev.lastSequence + 1).toBe(cp.firstSequence);
      expect(prev.closingBalance).toBe(cp.openingBalance);
      cp = prev;
    }
    expect(sizes).toEqual([1, 2, 3, 7, 8, 100]);
    expect(cp.firstSequence).toBe(1);
    expect(cp.openingBalance).toBe('0.00');
  });
});
