// The proof scheme of the contract's Proofs section: RFC 6962 Merkle trees with
// domain-separated SHA-256 (0x00 for leaves, 0x01 for nodes). Built bottom-up: pairing
// nodes level by level and carrying an odd last node up unchanged gives exactly RFC 6962's
// MTH (split at the largest power of two below n).
//
// Two forms: `buildLevels` (an array of 32-byte buffers per level, for small trees and
// tests) and `buildTree` (one contiguous buffer per level: no per-node allocation, a third
// of the memory, for checkpoints of any size); plus `CompactRange`, RFC 6962's growing
// tree kept as the roots of its perfect subtrees, so a ledger can know the root of its
// open period after every delta for O(1) amortised hashing per leaf.
import { createHash } from 'node:crypto';
import { canonicalize, type Canonical } from './canonical-json.ts';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);
export const HASH_BYTES = 32;

export const leafHash = (leaf: Canonical): Buffer =>
  createHash('sha256').update(LEAF).update(canonicalize(leaf), 'utf8').digest();

/** The members of a receipt its proof leaf holds, with the receipt's values (amounts as decimal strings). */
export type ReceiptLeafFields = {
  receiptId: string;
  customerId: string;
  sequence: number;
  delta: string;
  balanceAfter: string;
  reason: string;
  referenceId: string | null;
  metadata: Record<string, string>;
};

/**
 * The Proofs section's leaf of a receipt: exactly these members (no status, hash or proof),
 * `createdAt` as the receipt shows it. Its `leafHash` is the receipt's `leafHash`: the sandbox
 * records it so, and a client checks a receipt's inclusion proof from it.
 */
export function receiptLeaf(r: ReceiptLeafFields, createdAt: string) {
  return {
    receiptId: r.receiptId,
    customerId: r.customerId,
    sequence: r.sequence,
    delta: r.delta,
    balanceAfter: r.balanceAfter,
    reason: r.reason,
    referenceId: r.referenceId,
    metadata: { ...r.metadata },
    createdAt,
  };
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) return createHash('sha256').update(NODE).update(left).update(right).digest();
  const pair = Buffer.allocUnsafe(2 * HASH_BYTES);
  left.copy(pair, 0);
  right.copy(pair, HASH_BYTES);
  const out = Buffer.allocUnsafe(HASH_BYTES);
  nodeHashInto(pair, 0, out, 0);
  return out;
}

// ---------------------------------------------------------------- node hashing
//
// A node hash is SHA-256 over exactly 65 bytes. Node's crypto costs about 3 µs a call here,
// almost all of it per-call overhead (OpenSSL 3 contexts, the JS/C++ boundary), for 0.3 µs
// of hashing; a tree of 1,000,000 leaves needs 999,999 of them. So node hashes are computed
// by this FIPS 180-4 SHA-256, specialised to the 65-byte message (two blocks, the second
// almost all padding) and reading its input in place: about 1 µs. merkle.test.ts checks it
// against node:crypto on random inputs and on every tree it builds.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const H = new Int32Array(8);

/** One SHA-256 compression of the block in W[0..15] into H. */
function compress(): void {
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let e = H[4]!;
  let f = H[5]!;
  let g = H[6]!;
  let h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

/** SHA-256(0x01 || src[offset … offset + 64]) written to out[at … at + 32]. */
function nodeHashInto(src: Buffer, offset: number, out: Buffer, at: number): void {
  H.set(IV);
  // Block 1: the 0x01 prefix and the first 63 bytes of the pair.
  W[0] = (0x01 << 24) | (src[offset]! << 16) | (src[offset + 1]! << 8) | src[offset + 2]!;
  for (let i = 1, p = offset + 3; i < 16; i++, p += 4) W[i] = (src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!;
  compress();
  // Block 2: the last byte, the 0x80 terminator, zeros and the length, 65 × 8 bits.
  W[0] = (src[offset + 63]! << 24) | 0x800000;
  W.fill(0, 1, 15);
  W[15] = 65 * 8;
  compress();
  for (let i = 0; i < 8; i++) out.writeInt32BE(H[i]!, at + 4 * i);
}

/** Every level of the tree, leaves first, root last (a single-element level). */
export function buildLevels(leaves: Buffer[]): Buffer[][] {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const level: Buffer[] = new Array(Math.ceil(below.length / 2));
    for (let i = 0; i + 1 < below.length; i += 2) level[i / 2] = nodeHash(below[i]!, below[i + 1]!);
    if (below.length % 2) level[level.length - 1] = below[below.length - 1]!;
    levels.push(level);
  }
  return levels;
}

export const rootOf = (levels: Buffer[][]): Buffer => levels[levels.length - 1]![0]!;

/** The audit path of leaf `index`, leaf side first (RFC 6962 PATH(m, D[n])). */
export function auditPath(levels: Buffer[][], index: number): Buffer[] {
  const path: Buffer[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l]!;
    const sibling = i ^ 1;
    if (sibling < level.length) path.push(level[sibling]!);
    i >>= 1;
  }
  return path;
}

/** RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its audit path. */
export function rootFromPath(leaf: Buffer, index: number, treeSize: number, path: Buffer[]): Buffer | undefined {
  if (index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : undefined;
}

// ---------------------------------------------------------------- contiguous trees

/** A tree as one buffer per level (hashes back to back), leaves first, root last. */
export type MerkleTree = { size: number; levels: Buffer[] };

/** The tree over `leaves`: `size` 32-byte leaf hashes back to back. */
export function buildTree(leaves: Buffer, size = leaves.length / HASH_BYTES): MerkleTree {
  if (size < 1 || !Number.isInteger(size) || leaves.length < size * HASH_BYTES) throw new Error('a Merkle tree needs at least one 32-byte leaf');
  const levels = [leaves.subarray(0, size * HASH_BYTES)];
  for (let n = size; n > 1; ) {
    const below = levels[levels.length - 1]!;
    const m = Math.ceil(n / 2);
    const level = Buffer.allocUnsafe(m * HASH_BYTES);
    for (let i = 0; i + 1 < n; i += 2) nodeHashInto(below, i * HASH_BYTES, level, (i >> 1) * HASH_BYTES);
    if (n % 2) below.copy(level, (m - 1) * HASH_BYTES, (n - 1) * HASH_BYTES, n * HASH_BYTES);
    levels.push(level);
    n = m;
  }
  return { size, levels };
}

/** Leaf hashes written as hex (as receipts keep them), decoded into one buffer. */
export function leavesFromHex(hashes: Iterable<string>, size: number): Buffer {
  const out = Buffer.allocUnsafe(size * HASH_BYTES);
  let i = 0;
  for (const hex of hashes) {
    if (out.write(hex, i * HASH_BYTES, HASH_BYTES, 'hex') !== HASH_BYTES) throw new Error('a leaf hash is not 64 hexadecimal characters');
    i++;
  }
  if (i !== size) throw new Error(`expected ${size} leaf hashes, got ${i}`);
  return out;
}

export const treeRoot = (tree: MerkleTree): Buffer => Buffer.from(tree.levels[tree.levels.length - 1]!.subarray(0, HASH_BYTES));

/** The audit path of leaf `index`, leaf side first (RFC 6962 PATH(m, D[n])). */
export function treeAuditPath(tree: MerkleTree, index: number): Buffer[] {
  const path: Buffer[] = [];
  let i = index;
  let n = tree.size;
  for (let l = 0; l < tree.levels.length - 1; l++) {
    const sibling = i ^ 1;
    if (sibling < n) path.push(Buffer.from(tree.levels[l]!.subarray(sibling * HASH_BYTES, (sibling + 1) * HASH_BYTES)));
    i >>= 1;
    n = Math.ceil(n / 2);
  }
  return path;
}

// ---------------------------------------------------------------- compact ranges

/** A growing RFC 6962 tree: the roots of its perfect subtrees, largest (leftmost) first. */
export type CompactRange = { size: number; peaks: Buffer[] };

export const emptyRange = (): CompactRange => ({ size: 0, peaks: [] });

/** Appends one leaf hash; merges the equal-sized subtrees it completes (amortised one node hash). */
export function appendLeaf(range: CompactRange, leaf: Buffer): void {
  range.peaks.push(leaf);
  for (let s = range.size; s & 1; s >>= 1) {
    const right = range.peaks.pop()!;
    const left = range.peaks.pop()!;
    range.peaks.push(nodeHash(left, right));
  }
  range.size++;
}

/** MTH of the range's leaves: the peaks folded right to left (RFC 6962 splits at the largest power of two). */
export function rangeRoot(range: CompactRange): Buffer {
  if (range.size === 0) throw new Error('a Merkle tree needs at least one leaf');
  let root = range.peaks[range.peaks.length - 1]!;
  for (let i = range.peaks.length - 2; i >= 0; i--) root = nodeHash(range.peaks[i]!, root);
  return root;
}
