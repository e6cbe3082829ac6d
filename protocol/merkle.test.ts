// The bottom-up tree must equal RFC 6962's recursive definition for every size, and every
// audit path must verify with RFC 9162's algorithm — checked against a direct transcription
// of the RFC here, not against the module's own helpers.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical-json.ts';
import {
  appendLeaf,
  auditPath,
  buildLevels,
  buildTree,
  emptyRange,
  leafHash,
  leavesFromHex,
  nodeHash,
  receiptLeaf,
  rangeRoot,
  rootFromPath,
  rootOf,
  treeAuditPath,
  treeRoot,
} from './merkle.ts';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const k = (n: number) => 2 ** Math.floor(Math.log2(n - 1)); // largest power of two < n

function mth(d: Buffer[]): Buffer {
  if (d.length === 1) return d[0]!;
  const split = k(d.length);
  return sha(Buffer.from([1]), mth(d.slice(0, split)), mth(d.slice(split)));
}

function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const split = k(d.length);
  return m < split ? [...path(m, d.slice(0, split)), mth(d.slice(split))] : [...path(m - split, d.slice(split)), mth(d.slice(0, split))];
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => sha(Buffer.from([0]), Buffer.from(`leaf ${i}`)));

describe('RFC 6962 Merkle tree', () => {
  it.each(Array.from({ length: 33 }, (_, i) => i + 1))('n = %i: root and every audit path match the RFC', (n) => {
    const d = leaves(n);
    const levels = buildLevels(d);
    expect(rootOf(levels).toString('hex')).toBe(mth(d).toString('hex'));
    for (let m = 0; m < n; m++) {
      const p = auditPath(levels, m);
      expect(p.map((b) => b.toString('hex'))).toEqual(path(m, d).map((b) => b.toString('hex')));
      expect(rootFromPath(d[m]!, m, n, p)?.toString('hex')).toBe(mth(d).toString('hex'));
    }
  });

  it('rejects a path for the wrong index, size or leaf', () => {
    const d = leaves(7);
    const levels = buildLevels(d);
    const root = rootOf(levels).toString('hex');
    const p = auditPath(levels, 3);
    expect(rootFromPath(d[3]!, 4, 7, p)?.toString('hex')).not.toBe(root);
    expect(rootFromPath(d[3]!, 3, 4, p)).toBeUndefined();
    expect(rootFromPath(d[2]!, 3, 7, p)?.toString('hex')).not.toBe(root);
    expect(rootFromPath(d[3]!, 7, 7, p)).toBeUndefined();
  });

  it('hashes leaves as SHA-256(0x00 || canonical JSON)', () => {
    const leaf = { b: '2', a: null, c: { z: 'é', y: '\u2028' }, n: 1 };
    const expected = sha(Buffer.from([0]), Buffer.from('{"a":null,"b":"2","c":{"y":"\u2028","z":"é"},"n":1}', 'utf8'));
    expect(canonicalize(leaf)).toBe('{"a":null,"b":"2","c":{"y":"\u2028","z":"é"},"n":1}');
    expect(leafHash(leaf).toString('hex')).toBe(expected.toString('hex'));
  });

  it('refuses an empty tree', () => {
    expect(() => buildLevels([])).toThrow();
    expect(() => buildTree(Buffer.alloc(0))).toThrow();
    expect(() => rangeRoot(emptyRange())).toThrow();
  });

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('n = %i: the contiguous tree and the compact range give the RFC root and paths', (n) => {
    const d = leaves(n);
    const tree = buildTree(leavesFromHex(d.map((b) => b.toString('hex')), n));
    const root = mth(d).toString('hex');
    expect(treeRoot(tree).toString('hex')).toBe(root);
    for (let m = 0; m < n; m++) expect(treeAuditPath(tree, m).map((b) => b.toString('hex'))).toEqual(path(m, d).map((b) => b.toString('hex')));
    // The range grows one leaf at a time and knows the root of every prefix.
    const range = emptyRange();
    for (let i = 0; i < n; i++) {
      appendLeaf(range, d[i]!);
      expect(rangeRoot(range).toString('hex')).toBe(mth(d.slice(0, i + 1)).toString('hex'));
    }
    expect(range.peaks.length).toBe(n.toString(2).replace(/0/g, '').length);
  });

  it('hashes nodes exactly as node:crypto does: SHA-256(0x01 || left || right)', () => {
    for (let i = 0; i < 2000; i++) {
      const left = randomBytes(32);
      const right = i % 100 === 0 ? Buffer.alloc(32, i % 200 ? 0xff : 0) : randomBytes(32);
      expect(nodeHash(left, right).toString('hex')).toBe(sha(Buffer.from([1]), left, right).toString('hex'));
    }
    // Inputs that are not 32-byte hashes still hash the same (node:crypto does it).
    expect(nodeHash(Buffer.from('a'), Buffer.from('bc')).toString('hex')).toBe(sha(Buffer.from([1]), Buffer.from('abc')).toString('hex'));
  });

  it('refuses leaf hashes that are not 64 hex characters', () => {
    expect(() => leavesFromHex(['ab'], 1)).toThrow();
    expect(() => leavesFromHex([], 1)).toThrow();
  });
});

describe('receiptLeaf', () => {
  it('is exactly the Proofs section members of a receipt, its hash SHA-256(0x00 || JCS(leaf))', () => {
    const receipt = {
      receiptId: 'rcpt_1',
      customerId: 'cus_1',
      sequence: 2,
      delta: '-1.50',
      balanceAfter: '8.50',
      reason: 'usage',
      referenceId: null,
      metadata: { z: '1', a: '2' },
      // Members of the receipt the leaf does not hold:
      status: 'confirmed',
      leafHash: 'ff',
      inclusionProof: null,
    };
    const leaf = receiptLeaf(receipt, '2026-01-01T00:00:00.000Z');
    const jcs = '{"balanceAfter":"8.50","createdAt":"2026-01-01T00:00:00.000Z","customerId":"cus_1","delta":"-1.50","metadata":{"a":"2","z":"1"},"reason":"usage","receiptId":"rcpt_1","referenceId":null,"sequence":2}';
    expect(canonicalize(leaf)).toBe(jcs);
    expect(leafHash(leaf).toString('hex')).toBe(sha(Buffer.from([0]), Buffer.from(jcs, 'utf8')).toString('hex'));
  });
});
