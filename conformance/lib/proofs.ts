// The suite's own implementation of the contract's proof scheme (openapi.yaml, tag Proofs),
// written from the RFCs and deliberately sharing no code with the server: RFC 8785 canonical
// JSON, SHA-256 with 0x00/0x01 domain separation, RFC 6962's recursive Merkle Tree Hash and
// RFC 9162's inclusion-proof verification.
import { createHash } from 'node:crypto';

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 8785 for strings, safe integers, null, booleans, arrays and objects. */
export function jcs(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('unexpected non-integer number in a leaf');
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
}

/** The leaf of a receipt: exactly the members the contract lists. */
export function leafOf(r: any) {
  return {
    receiptId: r.receiptId,
    customerId: r.customerId,
    sequence: r.sequence,
    delta: r.delta,
    balanceAfter: r.balanceAfter,
    reason: r.reason,
    referenceId: r.referenceId ?? null,
    metadata: r.metadata ?? {},
    createdAt: r.createdAt,
  };
}

export const leafHash = (receipt: any) => sha256(Buffer.from([0]), Buffer.from(jcs(leafOf(receipt)), 'utf8'));

/** RFC 6962 §2.1 MTH. */
export function merkleRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.2: does `path` prove `leaf` at `index` of a tree of `size` with `root`? */
export function verifyInclusion(leaf: Buffer, index: number, size: number, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

/** Exact decimal arithmetic on the contract's decimal strings, as 1e-8 units. */
export const units = (s: string) => {
  const m = /^(-)?(\d+)(?:\.(\d{1,8}))?$/.exec(s);
  if (!m) throw new Error(`not a decimal string: ${s}`);
  const v = BigInt(m[2]!) * 100_000_000n + BigInt((m[3] ?? '').padEnd(8, '0'));
  return m[1] ? -v : v;
};
