// The proof scheme of the contract's Proofs section: RFC 6962 Merkle trees with
// domain-separated SHA-256 (0x00 for leaves, 0x01 for nodes). Built bottom-up: pairing
// nodes level by level and carrying an odd last node up unchanged gives exactly RFC 6962's
// MTH (split at the largest power of two below n).
import { createHash } from 'node:crypto';
import { canonicalize, type Canonical } from './canonical-json.ts';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export const leafHash = (leaf: Canonical): Buffer =>
  createHash('sha256').update(LEAF).update(canonicalize(leaf), 'utf8').digest();

export const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  createHash('sha256').update(NODE).update(left).update(right).digest();

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
